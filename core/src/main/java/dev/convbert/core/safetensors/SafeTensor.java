package dev.convbert.core.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor: element type, shape and little-endian bytes (a read-only view of the mapped file when read).
 */
public record SafeTensor(String name, DType dtype, long[] shape, ByteBuffer data) {

    public SafeTensor {
        data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long expected = Math.multiplyExact(numel(shape), (long) dtype.bytes());
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor \"" + name + "\" shape " + Arrays.toString(shape) + " " + dtype
                    + " needs " + expected + " bytes but " + data.remaining() + " were given");
        }
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long numel() {
        return numel(shape);
    }

    /** The values as float32, widening F16/BF16 and narrowing F64; integer types are refused. */
    public float[] toFloats() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.halfToFloat(b.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.bf16ToFloat(b.getShort(i * 2));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble(i * 8);
                }
            }
            default -> throw new IllegalStateException("tensor \"" + name + "\" is " + dtype + ", not a floating-point type");
        }
        return out;
    }

    public long[] toLongs() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = b.getInt(i * 4);
                }
            }
            default -> throw new IllegalStateException("tensor \"" + name + "\" is " + dtype + ", not an integer type");
        }
        return out;
    }

    public static SafeTensor ofFloats(String name, long[] shape, float[] values) {
        return ofFloats(name, DType.F32, shape, values);
    }

    /** Encodes float32 values as {@code dtype} (F32, F16 or BF16). */
    public static SafeTensor ofFloats(String name, DType dtype, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(HalfFloats.floatToHalf(v));
                case BF16 -> b.putShort(HalfFloats.floatToBf16(v));
                default -> throw new IllegalArgumentException("cannot encode floats as " + dtype);
            }
        }
        b.flip();
        return new SafeTensor(name, dtype, shape.clone(), b);
    }

    public static SafeTensor ofLongs(String name, long[] shape, long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        b.flip();
        return new SafeTensor(name, DType.I64, shape.clone(), b);
    }
}
