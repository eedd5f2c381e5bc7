package dev.convbert.exporter.onnx;

/**
 * A transposed linear weight [in, out] as symmetric int8 per output column: scale = max|column| / 127 (1 for an
 * all-zero column), values rounded and clamped to ±127 so the product never meets −128's asymmetry.
 */
record Int8Columns(byte[] values, float[] scales) {

    static Int8Columns quantize(float[] weightT, int in, int out) {
        float[] scale = new float[out];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                scale[o] = Math.max(scale[o], Math.abs(weightT[i * out + o]));
            }
        }
        for (int o = 0; o < out; o++) {
            scale[o] = scale[o] > 0 ? scale[o] / 127f : 1f;
        }
        byte[] q = new byte[in * out];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                q[i * out + o] = (byte) Math.max(-127, Math.min(127, Math.round(weightT[i * out + o] / scale[o])));
            }
        }
        return new Int8Columns(q, scale);
    }
}
