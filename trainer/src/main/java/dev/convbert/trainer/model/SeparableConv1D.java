package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The span-aware key (HF {@code SeparableConv1D}, child {@code key_conv_attn_layer}): a depthwise Conv1d over the
 * sequence with 'same' zero padding (a cross-correlation, taps not flipped), a pointwise Conv1d to the all-head width,
 * then a bias of shape [A, 1].
 */
final class SeparableConv1D extends HfBlock {
    private final Parameter depthwise;
    private final Parameter pointwise;
    private final Parameter bias;
    private final long channels;
    private final long kernel;

    SeparableConv1D(long hidden, long allHead, int kernelSize) {
        channels = hidden;
        kernel = kernelSize;
        depthwise = param("depthwise.weight", Init.NORMAL, hidden, 1, kernelSize);
        pointwise = param("pointwise.weight", Init.NORMAL, allHead, hidden, 1);
        bias = param("bias", Init.ZEROS, allHead, 1);
    }

    /** x [B, L, Hd] (already zeroed at padded positions in padding-invariant mode) → [B, L, A]. */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray xt = x.transpose(0, 2, 1);                                       // [B, Hd, L]
        NDArray dw = Conv1d.conv1d(xt, value(ps, depthwise, x, training), null, new Shape(1), new Shape(kernel / 2),
                new Shape(1), (int) channels).singletonOrThrow();               // [B, Hd, L]
        NDArray pw = Conv1d.conv1d(dw, value(ps, pointwise, x, training)).singletonOrThrow();   // [B, A, L]
        return pw.add(value(ps, bias, x, training)).transpose(0, 2, 1);          // [B, L, A]
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
}
