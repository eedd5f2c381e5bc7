package dev.convbert.trainer.loop;

import dev.convbert.trainer.checkpoint.Checkpoints;

/**
 * How a training command runs, beside what it trains — none of it is part of the run's identity, so a resume may
 * change it.
 *
 * @param keepCheckpoints        checkpoints kept on disk, newest first (a damaged newest one falls back to the next)
 * @param stop                   asks the loop to stop after the step in flight (the command's {@link StopSignals})
 * @param beforeCheckpointCommit runs after a checkpoint's files are complete and before the pointer names it (see
 *                               {@link Checkpoints#Checkpoints(java.nio.file.Path, int, Runnable)})
 */
public record RunControl(int keepCheckpoints, StopRequest stop, Runnable beforeCheckpointCommit) {
    public static RunControl defaults() {
        return new RunControl(Checkpoints.DEFAULT_KEEP, StopRequest.NEVER, () -> { });
    }

    public RunControl withStop(StopRequest s) {
        return new RunControl(keepCheckpoints, s, beforeCheckpointCommit);
    }

    public RunControl withKeepCheckpoints(int keep) {
        return new RunControl(keep, stop, beforeCheckpointCommit);
    }

    public RunControl withBeforeCheckpointCommit(Runnable r) {
        return new RunControl(keepCheckpoints, stop, r);
    }

    /** The checkpoints of a run in {@code outputDir}, kept and committed as this says. */
    public Checkpoints checkpoints(java.nio.file.Path outputDir) {
        return new Checkpoints(outputDir, keepCheckpoints, beforeCheckpointCommit);
    }
}
