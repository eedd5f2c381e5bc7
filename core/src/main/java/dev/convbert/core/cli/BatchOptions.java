package dev.convbert.core.cli;

import dev.convbert.core.InvalidInputException;
import picocli.CommandLine.Option;

/** Rows per forward pass, for the commands that score a file (score, predict, predict-glue, spark-score). */
public final class BatchOptions {
    /** Rows per forward pass when not given. */
    public static final int DEFAULT_BATCH_SIZE = 32;

    @Option(names = "--batch-size", description = "Rows per forward pass, length-sorted where the model allows (default "
            + DEFAULT_BATCH_SIZE + ").")
    Integer batchSize;

    public int batchSize() {
        int b = batchSize != null ? batchSize : DEFAULT_BATCH_SIZE;
        if (b < 1) {
            throw new InvalidInputException("--batch-size must be >= 1, found " + b);
        }
        return b;
    }
}
