package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * The window sum of the span-based dynamic convolution (paper §3.2; HF {@code ConvBertSelfAttention}, the
 * {@code unfold} part): for each position l and head h,
 * {@code out[l, h, d] = Σ_j kernel[l, h, j] · value[l + j - (k-1)/2, h, d]}, zero outside the sequence.
 *
 * <p>Done as k shifted slices of the padded values, multiply-accumulated: no k-times unfolded copy as in HF's
 * {@code unfold} (the export's SHIFTED_SLICES and GATHER_UNFOLD formulations measure the two, docs/EXPORT.md).
 */
public final class SpanBasedDynamicConv {
    private SpanBasedDynamicConv() {}

    /**
     * @param values  conv_out_layer output [B, L, H', D] (zeroed at padded positions in padding-invariant mode)
     * @param kernels softmax-normalised dynamic kernels [B, L, H', k]
     * @return [B, L, H', D]
     */
    static NDArray apply(NDArray values, NDArray kernels) {
        long len = values.getShape().get(1);
        int k = (int) kernels.getShape().get(3);
        int p = (k - 1) / 2;
        NDArray padded = values.pad(new Shape(0, 0, 0, 0, p, p), 0);             // [B, L+k-1, H', D]
        NDArray out = null;
        for (int j = 0; j < k; j++) {
            NDArray tap = kernels.get(":, :, :, {}:{}", j, j + 1);               // [B, L, H', 1]
            NDArray term = padded.get(":, {}:{}", j, j + len).mul(tap);         // [B, L, H', D]
            out = out == null ? term : out.add(term);
        }
        return out;
    }
}
