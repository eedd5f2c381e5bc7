package dev.convbert.core.cli;

import dev.convbert.core.glue.GlueTask;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The GLUE task and data every command that reads a GLUE split takes (finetune, score, predict-glue, benchmark,
 * optimize), defined once. Mixed in with {@code @Mixin}.
 */
public final class GlueOptions {
    @Option(names = "--task", required = true, description = "The GLUE task (cola, sst-2, mrpc, sts-b, qqp, mnli, qnli, "
            + "rte, wnli); for a fine-tuned model, the one it was fine-tuned on.")
    String task;

    @Option(names = "--data-dir", required = true, description = "GLUE in its original layout (TASK/train.tsv, dev.tsv, test.tsv).")
    Path dataDir;

    /** The task, refused (exit 2) when it is not a GLUE task. */
    public GlueTask task() {
        return GlueTask.fromId(task);
    }

    public Path dataDir() {
        return dataDir;
    }
}
