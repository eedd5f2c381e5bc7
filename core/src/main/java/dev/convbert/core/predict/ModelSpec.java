package dev.convbert.core.predict;

import java.nio.file.Path;

/**
 * What a user says about the model to score — the command line's {@code --model --vocab --max-length}, or a program's
 * (a Spark ML transformer) — before {@link ScoringModel} decides the rest from the opened model.
 *
 * @param vocab     the vocabulary given, or null: the model's own
 * @param maxLength the length texts are cut at, or null: the model's trained length
 */
public record ModelSpec(Path model, Path vocab, Integer maxLength) {}
