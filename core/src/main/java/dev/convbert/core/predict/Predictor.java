package dev.convbert.core.predict;

import dev.convbert.core.config.ConvBertConfig;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded sequence-classification model, whatever runs it (DJL on PyTorch for a model directory, ONNX Runtime for an
 * exported {@code .onnx}), so {@code predict} and scoring treat both alike. Closing it frees its native memory.
 */
public interface Predictor extends AutoCloseable {

    /** Outputs of one batch: logits [B][labels]; last_hidden_state [B][L][Hd] when asked for. */
    record Output(float[][] logits, float[][][] lastHiddenState) {}

    ConvBertConfig config();

    /** The vocabulary that belongs to the model, when it has one beside it. */
    Optional<Path> vocab();

    /** Runs one rectangular batch exactly as given (no padding added or removed). */
    Output run(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask, boolean hiddenStates);

    @Override
    void close();
}
