package dev.convbert.trainer.optim;

import ai.djl.ndarray.NDArray;
import dev.convbert.core.safetensors.SafeTensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with decoupled weight decay per {@link ParamGroup}, as the original ConvBERT/ELECTRA optimiser
 * ({@code model/optimization.py}): {@code m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * θ −= lr·scale·(m / (√v + ε) + wd·θ)}, weight decay only where the group allows it, no bias correction (the original
 * has none). Its moments are ours (DJL keeps them private), so they are saved and restored for exact resume.
 */
public final class AdamW {
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long updates;

    private AdamW(double beta1, double beta2, double epsilon, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
    }

    /** The original fine-tuning/pre-training settings: β 0.9/0.999, ε 1e-6. */
    public static AdamW original(double weightDecay) {
        return new AdamW(0.9, 0.999, 1e-6, weightDecay);
    }

    /**
     * One update of every group with its gradient ({@code grads.get(i)} belongs to {@code groups.get(i)}); runs outside
     * any gradient collector, in place on the parameter arrays.
     */
    public void step(List<ParamGroup> groups, List<NDArray> grads, double lr) {
        updates++;
        for (int i = 0; i < groups.size(); i++) {
            ParamGroup p = groups.get(i);
            NDArray w = p.parameter().getArray();
            NDArray g = grads.get(i);
            NDArray mi = m.computeIfAbsent(p.name(), k -> zerosLike(w));
            NDArray vi = v.computeIfAbsent(p.name(), k -> zerosLike(w));
            // temporaries are closed here: the arrays live in the model's manager, which outlives every step
            try (NDArray scaled = g.mul(1 - beta1)) {
                mi.muli(beta1).addi(scaled);
            }
            try (NDArray squared = g.square()) {
                vi.muli(beta2).addi(squared.muli(1 - beta2));
            }
            try (NDArray denominator = vi.sqrt();
                 NDArray update = mi.div(denominator.addi(epsilon))) {
                if (p.decay() && weightDecay > 0) {
                    try (NDArray decayTerm = w.mul(weightDecay)) {
                        update.addi(decayTerm);
                    }
                }
                w.subi(update.muli(lr * p.lrScale()));
            }
        }
    }

    private static NDArray zerosLike(NDArray w) {
        NDArray z = w.zerosLike();
        z.setRequiresGradient(false);
        return z;
    }

    public long updates() {
        return updates;
    }

    /** The moments as tensors ({@code m.<param>}, {@code v.<param>}) for a checkpoint. */
    public List<SafeTensor> state() {
        List<SafeTensor> out = new ArrayList<>();
        for (var e : m.entrySet()) {
            out.add(SafeTensor.ofFloats("m." + e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray()));
        }
        for (var e : v.entrySet()) {
            out.add(SafeTensor.ofFloats("v." + e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray()));
        }
        return out;
    }

    /** Restores moments saved by {@link #state()}; a checkpoint missing a parameter's moments is an error. */
    public void restore(Map<String, SafeTensor> tensors, List<ParamGroup> groups, long updates, String source) {
        this.updates = updates;
        for (ParamGroup p : groups) {
            SafeTensor mt = tensors.get("m." + p.name());
            SafeTensor vt = tensors.get("v." + p.name());
            if (mt == null || vt == null) {
                if (updates == 0) {
                    continue;
                }
                throw new IllegalStateException(source + ": no Adam moments for \"" + p.name()
                        + "\"; the checkpoint does not belong to this model");
            }
            NDArray w = p.parameter().getArray();
            // beside their parameter: in the manager that holds the model for the whole run
            m.put(p.name(), w.getManager().create(mt.toFloats(), w.getShape()));
            v.put(p.name(), w.getManager().create(vt.toFloats(), w.getShape()));
        }
    }
}
