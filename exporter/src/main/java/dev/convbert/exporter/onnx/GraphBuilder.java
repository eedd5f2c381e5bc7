package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the nodes of one ONNX graph or function body, one operator per call, each call returning its output's name.
 * Small constants become {@code Constant} nodes (valid in function bodies too); weights become initializers of the
 * main graph. Every node is checked against {@link ConvBertOps}.
 */
public final class GraphBuilder {
    /** ONNX element types used here. */
    public static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT_VALUE;
    public static final int FLOAT16 = OnnxMl.TensorProto.DataType.FLOAT16_VALUE;
    public static final int INT64 = OnnxMl.TensorProto.DataType.INT64_VALUE;
    public static final int INT32 = OnnxMl.TensorProto.DataType.INT32_VALUE;
    public static final int INT8 = OnnxMl.TensorProto.DataType.INT8_VALUE;
    public static final int UINT8 = OnnxMl.TensorProto.DataType.UINT8_VALUE;

    private final String prefix;
    private final List<OnnxMl.NodeProto> nodes;
    private final Map<String, OnnxMl.TensorProto> initializers;
    private final int[] counter;

    /** @param prefix makes generated value names readable and unique within the graph (e.g. the layer path) */
    public GraphBuilder(String prefix) {
        this(prefix, new ArrayList<>(), new LinkedHashMap<>(), new int[1]);
    }

    private GraphBuilder(String prefix, List<OnnxMl.NodeProto> nodes, Map<String, OnnxMl.TensorProto> initializers,
                         int[] counter) {
        this.prefix = prefix;
        this.nodes = nodes;
        this.initializers = initializers;
        this.counter = counter;
    }

    /** The same graph, with generated names under {@code scope} (e.g. {@code encoder.layer.3}). */
    public GraphBuilder scoped(String scope) {
        return new GraphBuilder(scope, nodes, initializers, counter);
    }

    public List<OnnxMl.NodeProto> nodes() {
        return nodes;
    }

    public Map<String, OnnxMl.TensorProto> initializers() {
        return initializers;
    }

    /** One node with one output. */
    public String op(ConvBertOps op, Map<String, Object> attrs, String... inputs) {
        String out = prefix + "/" + op.opName() + "_" + (counter[0]++);
        node(op, attrs, List.of(out), inputs);
        return out;
    }

    public String op(ConvBertOps op, String... inputs) {
        return op(op, Map.of(), inputs);
    }

    /** A node with explicit output names (graph outputs, function outputs). */
    public void node(ConvBertOps op, Map<String, Object> attrs, List<String> outputs, String... inputs) {
        op.check(inputs.length, attrs.keySet());
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder()
                .setOpType(op.opName())
                .setName(outputs.get(0) + "_node");
        if (!op.standard()) {
            n.setDomain(op.domain());
        }
        for (String i : inputs) {
            n.addInput(i);
        }
        n.addAllOutput(outputs);
        attrs.forEach((k, v) -> n.addAttribute(attribute(k, v)));
        nodes().add(n.build());
    }

    // ---- one-line helpers, named as the ONNX operators ----

    public String add(String a, String b) { return op(ConvBertOps.ADD, a, b); }
    public String sub(String a, String b) { return op(ConvBertOps.SUB, a, b); }
    public String mul(String a, String b) { return op(ConvBertOps.MUL, a, b); }
    public String div(String a, String b) { return op(ConvBertOps.DIV, a, b); }
    public String matMul(String a, String b) { return op(ConvBertOps.MAT_MUL, a, b); }
    public String erf(String x) { return op(ConvBertOps.ERF, x); }
    public String shape(String x) { return op(ConvBertOps.SHAPE, x); }
    public String reshape(String x, String shape) { return op(ConvBertOps.RESHAPE, x, shape); }
    public String unsqueeze(String x, long... axes) { return op(ConvBertOps.UNSQUEEZE, x, ints(axes)); }
    public String squeeze(String x, long... axes) { return op(ConvBertOps.SQUEEZE, x, ints(axes)); }
    public String range(String start, String limit, String delta) { return op(ConvBertOps.RANGE, start, limit, delta); }

    public String cast(String x, int to) {
        return op(ConvBertOps.CAST, Map.of("to", (long) to), x);
    }

    public String gather(String data, String indices, long axis) {
        return op(ConvBertOps.GATHER, Map.of("axis", axis), data, indices);
    }

    public String transpose(String x, long... perm) {
        return op(ConvBertOps.TRANSPOSE, Map.of("perm", perm), x);
    }

    public String softmax(String x, long axis) {
        return op(ConvBertOps.SOFTMAX, Map.of("axis", axis), x);
    }

    public String concat(long axis, String... xs) {
        return op(ConvBertOps.CONCAT, Map.of("axis", axis), xs);
    }

    /** Split along {@code axis} into parts of the given sizes; one output per part. */
    public String[] split(String x, long axis, long... sizes) {
        String[] outs = new String[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            outs[i] = prefix + "/" + ConvBertOps.SPLIT.opName() + "_" + counter[0] + "_" + i;
        }
        counter[0]++;
        node(ConvBertOps.SPLIT, Map.of("axis", axis), List.of(outs), x, ints(sizes));
        return outs;
    }

    /** Quantises x to uint8 with one scale and zero point for the whole tensor: {x_q, scale, zero_point}. */
    public String[] dynamicQuantizeLinear(String x) {
        String base = prefix + "/" + ConvBertOps.DYNAMIC_QUANTIZE_LINEAR.opName() + "_" + (counter[0]++);
        String[] outs = {base + "_q", base + "_scale", base + "_zero_point"};
        node(ConvBertOps.DYNAMIC_QUANTIZE_LINEAR, Map.of(), List.of(outs), x);
        return outs;
    }

    /** x quantised to uint8 with a fixed scale and zero point {@code zeroPoint} (a {@link #scalarUint8}). */
    public String quantizeLinear(String x, float scale, String zeroPoint) {
        return op(ConvBertOps.QUANTIZE_LINEAR, x, scalar(scale, FLOAT), zeroPoint);
    }

    /** A uint8 scalar: a zero point. */
    public String scalarUint8(int value) {
        OnnxMl.TensorProto t = OnnxMl.TensorProto.newBuilder().setDataType(UINT8)
                .setRawData(ByteString.copyFrom(new byte[]{(byte) value})).build();
        return op(ConvBertOps.CONSTANT, Map.of("value", t));
    }

    /** int32 product of a uint8 A (zero point aZeroPoint) and a symmetric int8 B. */
    public String matMulInteger(String a, String b, String aZeroPoint) {
        return op(ConvBertOps.MAT_MUL_INTEGER, a, b, aZeroPoint);
    }

    public String slice(String x, String starts, String ends, String axes) {
        return op(ConvBertOps.SLICE, x, starts, ends, axes);
    }

    public String layerNorm(String x, String scale, String bias, double eps) {
        return op(ConvBertOps.LAYER_NORMALIZATION, Map.of("axis", -1L, "epsilon", (float) eps, "stash_type", 1L), x, scale, bias);
    }

    /** ONNX Runtime's LayerNorm(x + skip) in one kernel ({@code com.microsoft}); x and skip are [N,C] or [B,L,C]. */
    public String skipLayerNorm(String x, String skip, String scale, String bias, double eps) {
        return op(ConvBertOps.SKIP_LAYER_NORMALIZATION, Map.of("epsilon", (float) eps), x, skip, scale, bias);
    }

    /**
     * ONNX Runtime's LayerNorm(word[ids] + position[0..L) + tokenType[types]) in one kernel ({@code com.microsoft});
     * ids and types are int32 [B,L]. Its second output, a mask index for BERT's Attention operator, is not read.
     */
    public String embedLayerNorm(String ids, String types, String word, String position, String tokenType,
                                 String scale, String bias, double eps) {
        String base = prefix + "/" + ConvBertOps.EMBED_LAYER_NORMALIZATION.opName() + "_" + (counter[0]++);
        node(ConvBertOps.EMBED_LAYER_NORMALIZATION, Map.of("epsilon", (float) eps), List.of(base, base + "_mask_index"),
                ids, types, word, position, tokenType, scale, bias);
        return base;
    }

    public String reduceSum(String x, long... axes) {
        return op(ConvBertOps.REDUCE_SUM, Map.of("keepdims", 0L), x, ints(axes));
    }

    /** Exact erf GELU, written as ONNX Runtime's Gelu fusion expects it: x · 0.5 · (1 + erf(x / √2)). */
    public String gelu(String x, int type) {
        String e = erf(div(x, scalar((float) Math.sqrt(2.0), type)));
        return mul(mul(x, add(e, scalar(1f, type))), scalar(0.5f, type));
    }

    // ---- constants ----

    public String ints(long... values) {
        OnnxMl.TensorProto t = OnnxMl.TensorProto.newBuilder().setDataType(INT64).addDims(values.length)
                .setRawData(bytes(values)).build();
        return op(ConvBertOps.CONSTANT, Map.of("value", t));
    }

    /** A scalar of element type {@code type} (FLOAT or FLOAT16). */
    public String scalar(float value, int type) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setDataType(type);
        t.setRawData(type == FLOAT16 ? halves(new float[]{value}) : floats(new float[]{value}));
        return op(ConvBertOps.CONSTANT, Map.of("value", t.build()));
    }

    public String scalarInt(long value) {
        OnnxMl.TensorProto t = OnnxMl.TensorProto.newBuilder().setDataType(INT64).setRawData(bytes(new long[]{value})).build();
        return op(ConvBertOps.CONSTANT, Map.of("value", t));
    }

    /** A weight of the main graph, stored as {@code type} (FLOAT or FLOAT16). */
    public String initializer(String name, long[] dims, float[] values, int type) {
        return register(name, dims, type, type == FLOAT16 ? halves(values) : floats(values));
    }

    /** An int8 weight of the main graph. */
    public String initializerInt8(String name, long[] dims, byte[] values) {
        return register(name, dims, INT8, ByteString.copyFrom(values));
    }

    private String register(String name, long[] dims, int type, ByteString raw) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(type).setRawData(raw);
        for (long d : dims) {
            t.addDims(d);
        }
        if (initializers().put(name, t.build()) != null) {
            throw new IllegalStateException("initializer \"" + name + "\" written twice");
        }
        return name;
    }

    static ByteString floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return ByteString.copyFrom(b.array());
    }

    static ByteString halves(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putShort(dev.convbert.core.safetensors.HalfFloats.floatToHalf(x));
        }
        return ByteString.copyFrom(b.array());
    }

    static ByteString bytes(long[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return ByteString.copyFrom(b.array());
    }

    private static OnnxMl.AttributeProto attribute(String name, Object v) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name);
        if (v instanceof Long l) {
            a.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(l);
        } else if (v instanceof Float f) {
            a.setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(f);
        } else if (v instanceof long[] ls) {
            a.setType(OnnxMl.AttributeProto.AttributeType.INTS);
            for (long l : ls) {
                a.addInts(l);
            }
        } else if (v instanceof OnnxMl.TensorProto t) {
            a.setType(OnnxMl.AttributeProto.AttributeType.TENSOR).setT(t);
        } else if (v instanceof String s) {
            a.setType(OnnxMl.AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else {
            throw new IllegalArgumentException("attribute \"" + name + "\": unsupported value " + v);
        }
        return a.build();
    }
}
