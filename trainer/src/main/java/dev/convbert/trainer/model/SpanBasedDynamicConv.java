package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

/**
 * The window sum of the span-based dynamic convolution (paper §3.2; HF {@code ConvBertSelfAttention}, the
 * {@code unfold} part): for each position l and head h,
 * {@code out[l, h, d] = Σ_j kernel[l, h, j] · value[l + j - (k-1)/2, h, d]}, zero outside the sequence.
 *
 * <p>{@link #shiftedSlices} does it as k shifted slices of the padded values, multiply-accumulated — no k-times
 * unfolded copy; {@link #unfold} is HF's formulation, kept to measure against (see docs/RESULTS.md).
 */
public final class SpanBasedDynamicConv {
    private SpanBasedDynamicConv() {}

    /** The formulation the model runs; UNFOLD exists for the benchmark. */
    public enum Formulation { SHIFTED_SLICES, UNFOLD }

    private static volatile Formulation formulation = Formulation.SHIFTED_SLICES;

    /** Process-wide switch, for measuring the two formulations against each other (both are exact). */
    public static void use(Formulation f) {
        formulation = f;
    }

    /**
     * @param values  conv_out_layer output [B, L, H', D] (zeroed at padded positions in padding-invariant mode)
     * @param kernels softmax-normalised dynamic kernels [B, L, H', k]
     * @return [B, L, H', D]
     */
    static NDArray apply(NDArray values, NDArray kernels) {
        return formulation == Formulation.SHIFTED_SLICES ? shiftedSlices(values, kernels) : unfold(values, kernels);
    }

    static NDArray shiftedSlices(NDArray values, NDArray kernels) {
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

    static NDArray unfold(NDArray values, NDArray kernels) {
        long len = values.getShape().get(1);
        int k = (int) kernels.getShape().get(3);
        int p = (k - 1) / 2;
        NDArray padded = values.pad(new Shape(0, 0, 0, 0, p, p), 0);
        NDList windows = new NDList(k);
        for (int j = 0; j < k; j++) {
            windows.add(padded.get(":, {}:{}", j, j + len));
        }
        NDArray unfolded = NDArrays.stack(windows, 4);                           // [B, L, H', D, k]
        return unfolded.matMul(kernels.expandDims(4)).squeeze(4);              // [B, L, H', D]
    }
}
