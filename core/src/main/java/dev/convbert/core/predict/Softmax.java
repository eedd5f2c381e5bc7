package dev.convbert.core.predict;

/** Class probabilities from logits: the one softmax every answer with probabilities uses (serve, the page). */
public final class Softmax {
    private Softmax() {}

    /** softmax(logits), computed after subtracting the largest logit so that no exponential overflows. */
    public static double[] probabilities(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** The index of the largest value (the first of equals). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
