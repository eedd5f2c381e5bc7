package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The span-aware key (HF {@code SeparableConv1D}, child {@code key_conv_attn_layer}): a depthwise convolution over the
 * sequence with 'same' zero padding (a cross-correlation, taps not flipped), a pointwise projection to the all-head
 * width, then a bias of shape [A, 1]. Written as k shifted slices and one matmul rather than PyTorch's conv1d: the same
 * arithmetic, without conv1d's NNPACK probe (which prints a warning on every CPU NNPACK does not tune for).
 */
final class SeparableConv1D extends HfBlock {
    private final Parameter depthwise;
    private final Parameter pointwise;
    private final Parameter bias;
    private final long channels;
    private final long allHead;
    private final int kernel;

    SeparableConv1D(long hidden, long allHead, int kernelSize) {
        channels = hidden;
        this.allHead = allHead;
        kernel = kernelSize;
        depthwise = param("depthwise.weight", Init.NORMAL, hidden, 1, kernelSize);
        pointwise = param("pointwise.weight", Init.NORMAL, allHead, hidden, 1);
        bias = param("bias", Init.ZEROS, allHead, 1);
    }

    /** x [B, L, Hd] (already zeroed at padded positions in padding-invariant mode) → [B, L, A]. */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        long len = x.getShape().get(1);
        int p = kernel / 2;
        NDArray taps = stepLocal(value(ps, depthwise, x, training).reshape(channels, kernel), x);   // [Hd, k]
        NDArray padded = x.pad(new Shape(0, 0, p, p), 0);                               // [B, L+k-1, Hd]
        NDArray dw = padded.get(":, 0:{}, :", len).mul(taps.get(":, 0"));                   // [B, L, Hd]
        for (int j = 1; j < kernel; j++) {
            // accumulate in place and free each tap's product at once: k live [B, L, Hd] temporaries per layer would
            // otherwise dominate inference memory; add's gradient needs none of them
            try (NDArray window = padded.get(":, {}:{}, :", j, j + len); NDArray tap = taps.get(":, {}", j);
                 NDArray term = window.mul(tap)) {
                dw.addi(term);
            }
        }
        NDArray weight = stepLocal(value(ps, pointwise, x, training).reshape(allHead, channels), x);   // [A, Hd]
        NDArray b = stepLocal(value(ps, bias, x, training).reshape(allHead), x);                       // [A]
        return dw.matMul(weight.transpose()).add(b);                                                  // [B, L, A]
    }

    /** A reshaped parameter is born in the model's manager; hand it to the step's so it is freed with the step. */
    private static NDArray stepLocal(NDArray paramView, NDArray like) {
        paramView.attach(like.getManager());
        return paramView;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
}
