package dev.convbert.core.checkpoint;

import dev.convbert.core.safetensors.DType;
import dev.convbert.core.safetensors.SafeTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Layout changes between frameworks (TF's [in, out] kernels to PyTorch's [out, in], …), on any element type. */
final class TensorLayouts {
    private TensorLayouts() {}

    /** {@code t} under {@code name} with its axes reordered: output axis i is input axis {@code perm[i]}. */
    static SafeTensor permute(SafeTensor t, String name, int... perm) {
        long[] in = t.shape();
        if (perm.length != in.length) {
            throw new IllegalArgumentException("permutation of rank " + perm.length + " for \"" + t.name() + "\" of rank " + in.length);
        }
        int rank = in.length;
        long[] out = new long[rank];
        long[] inStride = new long[rank];
        for (int d = rank - 1, s = 1; d >= 0; s *= (int) in[d], d--) {
            inStride[d] = s;
        }
        long[] stride = new long[rank];
        for (int i = 0; i < rank; i++) {
            out[i] = in[perm[i]];
            stride[i] = inStride[perm[i]];
        }
        int es = t.dtype().bytes();
        int n = Math.toIntExact(t.numel());
        ByteBuffer src = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] dst = new byte[n * es];
        long[] index = new long[rank];
        for (int i = 0; i < n; i++) {
            long at = 0;
            for (int d = 0; d < rank; d++) {
                at += index[d] * stride[d];
            }
            src.get((int) (at * es), dst, i * es, es);
            for (int d = rank - 1; d >= 0 && ++index[d] == out[d]; d--) {
                index[d] = 0;
            }
        }
        return new SafeTensor(name, t.dtype(), out, ByteBuffer.wrap(dst));
    }

    /** The same bytes under another name and shape (same element count). */
    static SafeTensor reshape(SafeTensor t, String name, long... shape) {
        return new SafeTensor(name, t.dtype(), shape, t.data());
    }

    /** Floating-point tensors as float32 (model directories hold float32); others unchanged. */
    static SafeTensor toFloat32(SafeTensor t) {
        return switch (t.dtype()) {
            case F16, BF16, F64 -> SafeTensor.ofFloats(t.name(), DType.F32, t.shape(), t.toFloats());
            default -> t;
        };
    }
}
