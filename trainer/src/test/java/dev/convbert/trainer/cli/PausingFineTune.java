package dev.convbert.trainer.cli;

import picocli.CommandLine;

/**
 * {@code finetune} as a process of its own that pauses between writing a checkpoint and committing it, so a test can
 * kill it at exactly that instant: {@code PausingFineTune PAUSE_MS finetune-args…}.
 */
public final class PausingFineTune {
    private PausingFineTune() {}

    public static void main(String[] args) throws Exception {
        long pauseMs = Long.parseLong(args[0]);
        FinetuneCommand command = new FinetuneCommand();
        new CommandLine(command).parseArgs(java.util.Arrays.copyOfRange(args, 1, args.length));
        command.tuner(dev.convbert.trainer.loop.RunControl.defaults().withBeforeCheckpointCommit(() -> {
            try {
                Thread.sleep(pauseMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })).run(command.resume);
    }
}
