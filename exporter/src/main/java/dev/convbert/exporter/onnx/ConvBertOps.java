package dev.convbert.exporter.onnx;

import java.util.Set;

/**
 * Every operator the exporter writes, declared once: name, domain, the opset it is taken from, input arity and the
 * attributes it may carry. {@link GraphBuilder} refuses anything else, so a typo in a graph builder fails at export,
 * not in a runtime. All are standard ONNX opset-17 operators except {@link #SPAN_DYNAMIC_CONV}, our model-local
 * function, and ONNX Runtime's contrib operators ({@code com.microsoft}), written only by {@code export --ort-operators}.
 */
public enum ConvBertOps {
    ADD("Add", 2, 2, Set.of()),
    SUB("Sub", 2, 2, Set.of()),
    MUL("Mul", 2, 2, Set.of()),
    DIV("Div", 2, 2, Set.of()),
    MAT_MUL("MatMul", 2, 2, Set.of()),
    ERF("Erf", 1, 1, Set.of()),
    CAST("Cast", 1, 1, Set.of("to")),
    CONSTANT("Constant", 0, 0, Set.of("value")),
    SHAPE("Shape", 1, 1, Set.of("start", "end")),
    GATHER("Gather", 2, 2, Set.of("axis")),
    RESHAPE("Reshape", 2, 2, Set.of()),
    TRANSPOSE("Transpose", 1, 1, Set.of("perm")),
    UNSQUEEZE("Unsqueeze", 2, 2, Set.of()),
    SQUEEZE("Squeeze", 1, 2, Set.of()),
    CONCAT("Concat", 1, Integer.MAX_VALUE, Set.of("axis")),
    SPLIT("Split", 1, 2, Set.of("axis")),
    SLICE("Slice", 3, 5, Set.of()),
    PAD("Pad", 2, 4, Set.of("mode")),
    RANGE("Range", 3, 3, Set.of()),
    SOFTMAX("Softmax", 1, 1, Set.of("axis")),
    LAYER_NORMALIZATION("LayerNormalization", 2, 3, Set.of("axis", "epsilon", "stash_type")),
    CONV("Conv", 2, 3, Set.of("group", "kernel_shape", "pads", "strides", "dilations")),
    REDUCE_SUM("ReduceSum", 1, 2, Set.of("keepdims")),
    IDENTITY("Identity", 1, 1, Set.of()),
    DYNAMIC_QUANTIZE_LINEAR("DynamicQuantizeLinear", 1, 1, Set.of()),
    MAT_MUL_INTEGER("MatMulInteger", 2, 4, Set.of()),
    QUANTIZE_LINEAR("QuantizeLinear", 2, 3, Set.of("axis")),
    /** ONNX Runtime's scaled dot-product attention over {@code num_heads} heads with a key-padding mask, one kernel. */
    MULTI_HEAD_ATTENTION("MultiHeadAttention", ConvBertOps.MICROSOFT, 1, 5, 5, Set.of("num_heads", "mask_filter_value")),
    /** ONNX Runtime's LayerNorm(input + skip [+ bias]) · gamma + beta, one kernel: a residual connection and its norm. */
    SKIP_LAYER_NORMALIZATION("SkipLayerNormalization", ConvBertOps.MICROSOFT, 1, 3, 5, Set.of("epsilon")),
    /** ONNX Runtime's word + position + token-type lookups, their sum and LayerNorm, one kernel (int32 ids). */
    EMBED_LAYER_NORMALIZATION("EmbedLayerNormalization", ConvBertOps.MICROSOFT, 1, 7, 7, Set.of("epsilon")),
    /** The fused span-based dynamic convolution: {@link SpanDynamicConvFunction}. */
    SPAN_DYNAMIC_CONV("SpanDynamicConv", ConvBertOps.CONVBERT, 1, 9, 9, Set.of());

    public static final int ONNX_OPSET = 17;
    /** ONNX Runtime's contrib-operator domain. */
    public static final String MICROSOFT = "com.microsoft";
    /** Our model-local functions' domain. */
    public static final String CONVBERT = "dev.convbert";

    private final String opName;
    private final String domain;
    private final int since;
    private final int minInputs;
    private final int maxInputs;
    private final Set<String> attributes;

    ConvBertOps(String opName, int minInputs, int maxInputs, Set<String> attributes) {
        this(opName, "", ONNX_OPSET, minInputs, maxInputs, attributes);
    }

    ConvBertOps(String opName, String domain, int since, int minInputs, int maxInputs, Set<String> attributes) {
        this.opName = opName;
        this.domain = domain;
        this.since = since;
        this.minInputs = minInputs;
        this.maxInputs = maxInputs;
        this.attributes = attributes;
    }

    public String opName() {
        return opName;
    }

    public String domain() {
        return domain;
    }

    /** Whether the op is a standard ONNX operator (the default domain). */
    public boolean standard() {
        return domain.isEmpty();
    }

    void check(int inputs, Set<String> attributeNames) {
        if (inputs < minInputs || inputs > maxInputs) {
            throw new IllegalArgumentException(opName + " takes " + minInputs + (maxInputs == minInputs ? "" : ".." + maxInputs)
                    + " inputs, got " + inputs);
        }
        for (String a : attributeNames) {
            if (!attributes.contains(a)) {
                throw new IllegalArgumentException(opName + " has no attribute \"" + a + "\"; expected one of " + attributes);
            }
        }
    }
}
