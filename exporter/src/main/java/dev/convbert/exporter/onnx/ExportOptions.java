package dev.convbert.exporter.onnx;

/**
 * How to export: the precision (see {@link Precision}); the convolution inlined instead of a local function; an extra
 * {@code last_hidden_state} output; the window formulation (a banded matrix product by default; shifted slices
 * and Gather/unfold for measurement); and {@code unfused}: the graph laid out as a per-module tracer such as
 * {@code torch.onnx} writes HF's model — four separate projections per layer and the last layer over every token —
 * the in-repo stand-in for the standard export that benchmarks measure against (same answers, more work).
 */
public record ExportOptions(Precision precision, boolean inline, boolean hiddenStates,
                            SpanDynamicConvFunction.Formulation formulation, boolean unfused, boolean ortOperators,
                            Int8Calibration calibration) {

    public ExportOptions {
        if (calibration != null && precision != Precision.INT8) {
            throw new IllegalArgumentException("activation ranges go with an int8 export, not " + precision.label());
        }
    }

    /** int8 with activations quantised at calibrated, fixed ranges instead of per run. */
    public boolean staticInt8() {
        return calibration != null;
    }

    /** The default export: float32, the convolution as a local function, logits only, banded windows, fused layout. */
    public static ExportOptions defaults() {
        return new Builder().build();
    }

    /** The stand-in for HF's standard export: inlined, Gather/unfold windows, unfused layout, float32. */
    public static ExportOptions standardLayout() {
        return new Builder().inline(true).formulation(SpanDynamicConvFunction.Formulation.GATHER_UNFOLD).unfused(true).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The same options at another precision. */
    public ExportOptions withPrecision(Precision p) {
        return toBuilder().precision(p).build();
    }

    /**
     * Starts from {@link #defaults()}. {@code ortOperators}: ONNX Runtime's fused contrib operators
     * ({@code com.microsoft}) where the standard graph does not fuse into them — MultiHeadAttention for the
     * self-attention half, SkipLayerNormalization for each residual connection and its norm, EmbedLayerNormalization
     * for the embeddings (float32 or int8): fewer, larger nodes for ONNX Runtime; other runtimes need the
     * standard-operator export.
     */
    public static final class Builder {
        private Precision precision = Precision.FLOAT32;
        private boolean inline;
        private boolean hiddenStates;
        private SpanDynamicConvFunction.Formulation formulation = SpanDynamicConvFunction.Formulation.BANDED_MATMUL;
        private boolean unfused;
        private boolean ortOperators;
        private Int8Calibration calibration;

        private Builder() {
        }

        private Builder(ExportOptions o) {
            precision = o.precision;
            inline = o.inline;
            hiddenStates = o.hiddenStates;
            formulation = o.formulation;
            unfused = o.unfused;
            ortOperators = o.ortOperators;
            calibration = o.calibration;
        }

        public Builder precision(Precision value) { precision = value; return this; }
        public Builder inline(boolean value) { inline = value; return this; }
        public Builder hiddenStates(boolean value) { hiddenStates = value; return this; }
        public Builder formulation(SpanDynamicConvFunction.Formulation value) { formulation = value; return this; }
        public Builder unfused(boolean value) { unfused = value; return this; }
        public Builder ortOperators(boolean value) { ortOperators = value; return this; }
        /** Static int8 (with {@code precision(INT8)}): activations quantised at these ranges. */
        public Builder calibration(Int8Calibration value) { calibration = value; return this; }

        public ExportOptions build() {
            return new ExportOptions(precision, inline, hiddenStates, formulation, unfused, ortOperators, calibration);
        }
    }

    public enum Precision {
        FLOAT32("float32"),
        /** float16 weights and compute; LayerNorm statistics and softmaxes in float32; int64 inputs, float32 outputs. */
        FLOAT16("float16"),
        /**
         * Dynamic int8 quantisation of the encoder's dense products (query/key/value/conv_out_layer, attention output,
         * feed-forward): weights int8, symmetric per output column; activations uint8 per tensor, quantised at run
         * time (standard DynamicQuantizeLinear + MatMulInteger, which ONNX Runtime fuses into one int8 GEMM). The
         * rest stays float32. Accuracy changes: the runtime's gate allows more for it.
         */
        INT8("int8");

        private final String label;

        Precision(String label) {
            this.label = label;
        }

        /** The name written to the model's {@code convbert.precision} metadata. */
        public String label() {
            return label;
        }
    }
}
