package dev.convbert.core.metrics;

import dev.convbert.core.glue.GlueTask;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A task's GLUE metrics on one split, and the single value that ranks checkpoints and gates exported models:
 * CoLA MCC; MRPC/QQP the mean of accuracy and F1; STS-B the mean of Pearson and Spearman; the others accuracy.
 */
public record GlueScore(GlueTask task, String split, Map<String, Double> metrics, String mainMetric, double main) {

    /** Scores class predictions ({@code predicted} are class indices) or, for STS-B, scores. */
    public static GlueScore of(GlueTask task, String split, double[] predicted, double[] gold) {
        Map<String, Double> m = new LinkedHashMap<>();
        double main;
        if (task.isRegression()) {
            double p = Metrics.pearson(predicted, gold);
            double s = Metrics.spearman(predicted, gold);
            m.put("pearson", p);
            m.put("spearman", s);
            main = (p + s) / 2;
        } else {
            int[] pi = toInts(predicted), gi = toInts(gold);
            double acc = Metrics.accuracy(pi, gi);
            switch (task.metric()) {
                case MCC -> {
                    main = Metrics.matthews(pi, gi);
                    m.put("mcc", main);
                    m.put("accuracy", acc);
                }
                case ACC_AND_F1 -> {
                    double f1 = Metrics.f1(pi, gi);
                    m.put("accuracy", acc);
                    m.put("f1", f1);
                    main = (acc + f1) / 2;
                }
                default -> {
                    m.put("accuracy", acc);
                    main = acc;
                }
            }
        }
        m.put(task.metric().key(), main);
        return new GlueScore(task, split, Map.copyOf(m), task.metric().key(), main);
    }

    private static int[] toInts(double[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
        }
        return out;
    }

    /** e.g. {@code SST-2 dev: accuracy=0.8131}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(task.glueName()).append(' ').append(split).append(':');
        new java.util.TreeMap<>(metrics).forEach((k, v) -> sb.append(' ').append(k).append('=')
                .append(String.format(java.util.Locale.ROOT, "%.4f", v)));
        return sb.toString();
    }
}
