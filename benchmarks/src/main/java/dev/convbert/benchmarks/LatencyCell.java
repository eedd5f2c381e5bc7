package dev.convbert.benchmarks;

import java.util.Arrays;

/** One backend's timed runs of one cell; {@code near} and {@code far} split them by the block's core placement. */
record LatencyCell(String backend, int batch, int seq, double[] ms, double[] near, double[] far) {
    /** Runs a percentile needs before it is reported: below that it is one of the few slowest runs, not a tail. */
    static int runsFor(double p) {
        return p >= 0.99 ? 100 : p >= 0.9 ? 10 : 1;
    }

    /** The {@code p} percentile of every run; NaN (reported as "too few runs") below {@link #runsFor}. */
    double percentile(double p) {
        return ms.length < runsFor(p) ? Double.NaN : percentile(ms, p);
    }

    static double percentile(double[] sorted, double p) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) Math.round(p * (sorted.length - 1))];
    }

    double farFraction() {
        return far.length / (double) ms.length;
    }

    double mean() {
        return Arrays.stream(ms).average().orElse(Double.NaN);
    }

    /** Sequences over the total time of every timed run (not batch / p50, which ignores the slow runs). */
    double sequencesPerSecond() {
        return (double) batch * ms.length * 1000.0 / Arrays.stream(ms).sum();
    }

    /** The median of the values that are numbers (the mean of the middle two for an even count); NaN for none. */
    static double median(double[] values) {
        double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
