package dev.convbert.benchmarks;

/** How far apart two runs' logits are: the largest absolute difference of any one value, as the gates compare them. */
final class LogitDiff {
    private LogitDiff() {
    }

    static double max(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }

    /** Against a reference stored row-major as one array ({@code b[i * width + j]}). */
    static double max(float[][] a, double[] flat) {
        double max = 0;
        int w = a[0].length;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < w; j++) {
                max = Math.max(max, Math.abs(a[i][j] - flat[i * w + j]));
            }
        }
        return max;
    }
}
