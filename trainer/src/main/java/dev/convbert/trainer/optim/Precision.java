package dev.convbert.trainer.optim;

import dev.convbert.core.InvalidInputException;

/**
 * The arithmetic a training step runs in. {@link #FP32}: everything in float32. {@link #FP16}: mixed precision with
 * fp32 master weights (Micikevicius et al. 2018; Apex O2): the forward and backward run on an fp16 copy of the weights,
 * the loss is scaled so that small gradients survive fp16, and AdamW updates the fp32 masters with the unscaled fp32
 * gradients. bf16 is not offered: DJL's PyTorch JNI cannot create a BFLOAT16 array (docs/RESULTS.md).
 */
public enum Precision {
    FP32("fp32"),
    FP16("fp16");

    private final String id;

    Precision(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static Precision of(String id) {
        for (Precision p : values()) {
            if (p.id.equals(id)) {
                return p;
            }
        }
        throw new InvalidInputException("--precision " + id + ": expected fp32 or fp16");
    }
}
