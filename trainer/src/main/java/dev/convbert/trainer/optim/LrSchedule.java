package dev.convbert.trainer.optim;

/**
 * The original schedule: linear decay to zero over {@code totalSteps}, multiplied by a linear warm-up over
 * {@code warmupSteps} ({@code lr·(1 − t/T)·min(1, t/W)}). Steps count from 1 here, so the first update already has a
 * non-zero rate (the TF code's step 0 gives lr 0 and wastes that update).
 */
public record LrSchedule(double peak, long warmupSteps, long totalSteps) {

    /** The rate for the update at 0-based {@code step}. */
    public double lr(long step) {
        double t = step + 1;
        double decay = Math.max(0.0, 1.0 - (t - 1) / totalSteps);
        double warmup = warmupSteps <= 0 ? 1.0 : Math.min(1.0, t / warmupSteps);
        return peak * decay * warmup;
    }
}
