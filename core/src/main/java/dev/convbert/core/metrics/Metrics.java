package dev.convbert.core.metrics;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The GLUE metrics, computed in double precision: accuracy, F1 of the positive class, Matthews correlation, Pearson
 * and Spearman correlation (ties get their average rank, as in scipy).
 */
public final class Metrics {
    private Metrics() {}

    public static double accuracy(int[] predicted, int[] gold) {
        check(predicted.length, gold.length);
        int right = 0;
        for (int i = 0; i < gold.length; i++) {
            right += predicted[i] == gold[i] ? 1 : 0;
        }
        return (double) right / gold.length;
    }

    /** F1 of class 1; 0 when there are no true positives (sklearn's zero_division=0). */
    public static double f1(int[] predicted, int[] gold) {
        check(predicted.length, gold.length);
        long tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < gold.length; i++) {
            boolean p = predicted[i] == 1, g = gold[i] == 1;
            if (p && g) tp++;
            else if (p) fp++;
            else if (g) fn++;
        }
        return tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    /** Matthews correlation for binary labels; 0 when any marginal is empty (sklearn's convention). */
    public static double matthews(int[] predicted, int[] gold) {
        check(predicted.length, gold.length);
        double tp = 0, tn = 0, fp = 0, fn = 0;
        for (int i = 0; i < gold.length; i++) {
            boolean p = predicted[i] == 1, g = gold[i] == 1;
            if (p && g) tp++;
            else if (!p && !g) tn++;
            else if (p) fp++;
            else fn++;
        }
        double den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
        return den == 0 ? 0.0 : (tp * tn - fp * fn) / den;
    }

    public static double pearson(double[] x, double[] y) {
        check(x.length, y.length);
        int n = x.length;
        double mx = Arrays.stream(x).average().orElse(0), my = Arrays.stream(y).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        double den = Math.sqrt(sxx * syy);
        return den == 0 ? Double.NaN : sxy / den;
    }

    public static double spearman(double[] x, double[] y) {
        return pearson(ranks(x), ranks(y));
    }

    /** 1-based ranks; tied values share the average of the ranks they span. */
    public static double[] ranks(double[] v) {
        Integer[] order = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < order.length) {
            int j = i;
            while (j + 1 < order.length && v[order[j + 1]] == v[order[i]]) {
                j++;
            }
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[order[k]] = avg;
            }
            i = j + 1;
        }
        return r;
    }

    private static void check(int a, int b) {
        if (a != b) {
            throw new IllegalArgumentException(a + " predictions for " + b + " gold labels");
        }
        if (a == 0) {
            throw new IllegalArgumentException("no examples to score");
        }
    }
}
