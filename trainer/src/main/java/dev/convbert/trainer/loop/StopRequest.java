package dev.convbert.trainer.loop;

import java.util.Optional;

/**
 * Asks a {@link TrainingLoop} to stop: the loop looks between steps, never inside one, so no native call is torn down
 * under it; it then saves a checkpoint and throws {@link dev.convbert.core.RunInterruptedException}.
 */
public interface StopRequest {
    /** Nobody ever asks. */
    StopRequest NEVER = Optional::empty;

    /** The reason to stop, once there is one ("SIGINT", "SIGTERM"). */
    Optional<Reason> requested();

    /** What asked, and the exit code the process should end with (the shell's 128 + signal number). */
    record Reason(String name, int exitCode) {}
}
