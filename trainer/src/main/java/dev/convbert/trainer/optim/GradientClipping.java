package dev.convbert.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

import java.util.List;

/**
 * Clipping by global norm (TF {@code clip_by_global_norm}): when the norm of all gradients together exceeds
 * {@code maxNorm}, every gradient is scaled by {@code maxNorm / norm}. DJL only clamps element-wise.
 */
public final class GradientClipping {
    private GradientClipping() {}

    /**
     * Scales {@code grads} in place; returns the norm before clipping. The squares are summed on the gradients' device
     * and read once: a read per parameter (287 in medium-small) would make a GPU wait for each.
     */
    public static double globalNorm(List<NDArray> grads, double maxNorm) {
        NDArray total = null;
        for (NDArray g : grads) {
            try (NDArray squared = g.square()) {
                NDArray sum = squared.sum();
                if (total == null) {
                    total = sum;
                } else {
                    total.addi(sum);
                    sum.close();
                }
            }
        }
        double norm;
        try (NDArray t = total) {
            norm = t == null ? 0 : Math.sqrt(t.getFloat());
        }
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (NDArray g : grads) {
                g.muli(scale);
            }
        }
        return norm;
    }

    /**
     * Clears a gradient for the next step. A finite one is multiplied by zero in place; after a NaN/inf step it is
     * assigned zero (g × 0 and g − g keep NaN alive), which allocates a scalar in the gradient's manager — rare, so
     * tolerated, where doing it every step leaked one array per parameter per step (GlueTasksTest holds this).
     */
    public static void zero(NDArray g, double norm) {
        if (Double.isFinite(norm)) {
            g.muli(0f);
        } else {
            g.set(new NDIndex("..."), 0f);
        }
    }
}
