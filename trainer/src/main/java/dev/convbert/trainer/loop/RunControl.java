package dev.convbert.trainer.loop;

import dev.convbert.trainer.checkpoint.Checkpoints;

import java.nio.file.Path;

/**
 * How a training command runs, beside what it trains — none of it is part of the run's identity, so a resume may
 * change it.
 *
 * @param keepCheckpoints checkpoints kept on disk, newest first (a damaged newest one falls back to the next)
 * @param stop            asks the loop to stop after the step in flight (the command's {@link StopSignals})
 */
public record RunControl(int keepCheckpoints, StopRequest stop) {
    public static RunControl defaults() {
        return new RunControl(Checkpoints.DEFAULT_KEEP, StopRequest.NEVER);
    }

    public RunControl withStop(StopRequest s) {
        return new RunControl(keepCheckpoints, s);
    }

    public RunControl withKeepCheckpoints(int keep) {
        return new RunControl(keep, stop);
    }

    /** The checkpoints of a run in {@code outputDir}, kept as this says. */
    public Checkpoints checkpoints(Path outputDir) {
        return new Checkpoints(outputDir, keepCheckpoints);
    }
}
