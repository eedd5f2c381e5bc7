package dev.convbert.exporter.onnx;

/**
 * How to export: the precision (see {@link Precision}); the convolution inlined instead of a local function; an extra
 * {@code last_hidden_state} output; the window formulation (a banded matrix product by default; shifted slices
 * and Gather/unfold for measurement); and {@code unfused}: the graph laid out as a per-module tracer such as
 * {@code torch.onnx} writes HF's model — four separate projections per layer and the last layer over every token —
 * the in-repo stand-in for the standard export that benchmarks measure against (same answers, more work).
 */
public record ExportOptions(Precision precision, boolean inline, boolean hiddenStates,
                            SpanDynamicConvFunction.Formulation formulation, boolean unfused, boolean ortOperators) {

    public ExportOptions(Precision precision, boolean inline, boolean hiddenStates, SpanDynamicConvFunction.Formulation formulation) {
        this(precision, inline, hiddenStates, formulation, false, false);
    }

    public ExportOptions(Precision precision, boolean inline, boolean hiddenStates, SpanDynamicConvFunction.Formulation formulation,
                         boolean unfused) {
        this(precision, inline, hiddenStates, formulation, unfused, false);
    }

    /**
     * ONNX Runtime's fused contrib operators ({@code com.microsoft}) where the standard graph does not fuse into them:
     * MultiHeadAttention for the self-attention half, SkipLayerNormalization for each residual connection and its
     * norm, EmbedLayerNormalization for the embeddings (float32 or int8): fewer, larger nodes for ONNX Runtime; other
     * runtimes need the standard-operator export.
     */
    public ExportOptions withOrtOperators(boolean fused) {
        return new ExportOptions(precision, inline, hiddenStates, formulation, unfused, fused);
    }

    /** The stand-in for HF's standard export: inlined, Gather/unfold windows, unfused layout, float32. */
    public static ExportOptions standardLayout() {
        return new ExportOptions(Precision.FLOAT32, true, false, SpanDynamicConvFunction.Formulation.GATHER_UNFOLD, true);
    }

    public static ExportOptions defaults() {
        return new ExportOptions(Precision.FLOAT32, false, false, SpanDynamicConvFunction.Formulation.BANDED_MATMUL);
    }

    /** The same options at another precision. */
    public ExportOptions withPrecision(Precision p) {
        return new ExportOptions(p, inline, hiddenStates, formulation, unfused, ortOperators);
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
