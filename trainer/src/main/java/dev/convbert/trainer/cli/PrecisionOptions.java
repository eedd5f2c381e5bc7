package dev.convbert.trainer.cli;

import dev.convbert.core.InvalidInputException;
import dev.convbert.trainer.optim.Precision;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/** Mixed precision, the same for pretrain and finetune: the training precision and the loss scale it starts from. */
public final class PrecisionOptions {
    @Option(names = "--precision", defaultValue = "fp32", description = "fp32, or fp16 for GPUs: mixed precision with fp32 "
            + "master weights and dynamic loss scaling (slow on a CPU). Checked on --resume. Default ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--loss-scale", paramLabel = "SCALE", defaultValue = "65536", description = "fp16: the loss scale to "
            + "start from; halved on each overflow, doubled after 2000 clean steps (default ${DEFAULT-VALUE}, PyTorch's GradScaler's).")
    double lossScale;

    public Precision precision() {
        return Precision.of(precision);
    }

    /** The initial loss scale, refused (exit 2) below 1 or not finite. */
    public double lossScale() {
        if (!(lossScale >= 1 && lossScale < Double.POSITIVE_INFINITY)) {
            throw new InvalidInputException("--loss-scale " + lossScale + ": expected a number >= 1");
        }
        return lossScale;
    }

    /** fp16 runs on a CPU, correctly but slowly: say so before hours are spent. */
    public void warnOnCpu(String device, PrintWriter err) {
        if (precision() == Precision.FP16 && !device.startsWith("gpu")) {
            err.println("warning: --precision fp16 on the CPU: correct but slower than fp32 (half-precision kernels are "
                    + "slow on CPUs); it is meant for GPUs");
            err.flush();
        }
    }
}
