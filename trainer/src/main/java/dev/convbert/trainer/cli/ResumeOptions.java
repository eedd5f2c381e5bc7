package dev.convbert.trainer.cli;

import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.StopSignals;
import picocli.CommandLine.Option;

/** Checkpoints and resuming, the same for pretrain and finetune. */
public final class ResumeOptions {
    @Option(names = "--resume", description = "Continue the run in --output from its newest checkpoint that verifies "
            + "(after a crash, Ctrl-C, SIGTERM or pretrain's --stop-after).")
    boolean resume;

    @Option(names = "--keep-checkpoints", paramLabel = "N", defaultValue = "" + Checkpoints.DEFAULT_KEEP,
            description = "Checkpoints kept on disk, newest first; a damaged newest one falls back to the next "
                    + "(default ${DEFAULT-VALUE}).")
    int keepCheckpoints;

    public boolean resume() {
        return resume;
    }

    /** How the run is controlled: these checkpoints kept, stopped by {@code signals}. */
    public RunControl control(StopSignals signals) {
        return RunControl.defaults().withKeepCheckpoints(keepCheckpoints).withStop(signals);
    }
}
