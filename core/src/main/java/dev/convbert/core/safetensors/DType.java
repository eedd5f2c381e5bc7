package dev.convbert.core.safetensors;

/** Element types of a safetensors file that this project reads and writes, with their on-disk names. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Parses the header name; {@code null} when this reader does not support it. */
    static DType parse(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
