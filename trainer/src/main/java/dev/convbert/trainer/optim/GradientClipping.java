package dev.convbert.trainer.optim;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * Clipping by global norm (TF {@code clip_by_global_norm}): when the norm of all gradients together exceeds
 * {@code maxNorm}, every gradient is scaled by {@code maxNorm / norm}. DJL only clamps element-wise.
 */
public final class GradientClipping {
    private GradientClipping() {}

    /** Scales {@code grads} in place; returns the norm before clipping. */
    public static double globalNorm(List<NDArray> grads, double maxNorm) {
        double sumSquares = 0;
        for (NDArray g : grads) {
            try (NDArray squared = g.square(); NDArray sum = squared.sum()) {
                sumSquares += sum.getFloat();
            }
        }
        double norm = Math.sqrt(sumSquares);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (NDArray g : grads) {
                g.muli(scale);
            }
        }
        return norm;
    }
}
