package dev.convbert.core.cli;

import dev.convbert.core.predict.ModelSpec;
import dev.convbert.core.predict.ScoringModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options every command that runs a model for scoring shares (score, serve, predict, predict-glue, spark-score,
 * serve-load): which model, which vocabulary and where texts are cut. Mixed in with {@code @Mixin};
 * {@link ScoringModel} turns them and an opened model into what to run.
 */
public final class ModelOptions {
    @Option(names = "--model", required = true, description = "An .onnx written by 'convbert export' (predict and "
            + "predict-glue also take a model directory).")
    Path model;

    @Option(names = "--vocab", description = "vocab.txt for text inputs (default: the model's own: NAME.vocab.txt beside "
            + "an export, vocab.txt in a model directory); refused unless it is the vocabulary the model was trained with.")
    Path vocab;

    @Option(names = "--max-length", paramLabel = "TOKENS", description = "Cut texts to this many tokens (default: the "
            + "max_seq_length the model was fine-tuned with, as its export or directory records it; "
            + ScoringModel.DEFAULT_MAX_LENGTH + " when it records none).")
    Integer maxLength;

    /** The options as {@link ScoringModel} takes them. */
    public ModelSpec spec() {
        return new ModelSpec(model, vocab, maxLength);
    }

    public Path model() {
        return model;
    }
}
