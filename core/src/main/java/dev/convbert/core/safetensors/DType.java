package dev.convbert.core.safetensors;

/**
 * Element types of a safetensors file, with their on-disk names. The models use the floating-point ones; the integer
 * and boolean types appear in checkpoints ({@code global_step}, step counters) and are read and listed, not computed on.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), U16(2), U32(4), U64(8), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Parses the header name; {@code null} when this reader does not support it. */
    public static DType parse(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
