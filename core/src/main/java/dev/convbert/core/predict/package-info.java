/**
 * Running a model, independent of the engine: the {@code Predictor} SPI behind {@code convbert predict}, and the front
 * door every scoring command opens a model through ({@code ScoringModel} from a {@code ModelSpec}: vocabulary,
 * tokenizer, labels, the length texts are cut at), with the batching and softmax they share.
 */
package dev.convbert.core.predict;
