package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ModelDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.convbert.exporter.onnx.GraphBuilder.FLOAT;
import static dev.convbert.exporter.onnx.GraphBuilder.FLOAT16;
import static dev.convbert.exporter.onnx.GraphBuilder.INT32;
import static dev.convbert.exporter.onnx.GraphBuilder.INT64;

/**
 * Writes a fine-tuned model directory as ONNX (IR 8, opset 17): inputs {@code input_ids}, {@code attention_mask},
 * {@code token_type_ids} (int64, dynamic batch and sequence axes), output {@code logits} (and optionally
 * {@code last_hidden_state}; an encoder without a classification head exports {@code last_hidden_state} alone,
 * {@code last_hidden_state}); each layer's span-based dynamic convolution is one {@code dev.convbert:SpanDynamicConv}
 * node. The rest is written in the shapes ONNX Runtime's transformer fusions recognise (see docs/EXPORT.md).
 *
 * <p>Linear weights are stored transposed ([in, out], name suffix {@code .T}) so every dense is a plain MatMul + Add.
 * The model is validated in ONNX Runtime (all graph optimisations) before it is written, atomically.
 */
public final class OnnxExporter {
    public static final String VERSION = "0.1.0";
    /**
     * Added to the scores of padded keys. BERT's own −10000 rather than HF's float32 minimum: a runtime that computes
     * the mask in half precision (TensorRT with fp16 engines) turns −3.4e38 into −inf, and 0 · −inf is NaN for every
     * real token. exp(−10000) is 0 in float32 as exp(−3.4e38) is, so float32 results do not change.
     */
    static final float MASKED_SCORE = -10_000f;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModelDir dir;
    private final ConvBertConfig c;
    private final ExportOptions options;
    private final ExportWeights weights;
    private final Int8Products int8;
    private final int type;
    /** An encoder without a classification head: only last_hidden_state is exported. */
    private final boolean encoderOnly;
    /** The last build's inputs of each encoder dense product, by its weights' name: what {@link Calibrator} measures. */
    private final Map<String, String> productInputs = new LinkedHashMap<>();

    public OnnxExporter(ModelDir dir, ExportOptions options) {
        this.dir = dir;
        this.c = dir.config();
        this.options = options;
        this.type = options.precision() == ExportOptions.Precision.FLOAT16 ? FLOAT16 : FLOAT;
        c.requireFitsInHeap("exporting " + dir.dir());
        this.weights = new ExportWeights(dir, type);
        this.int8 = new Int8Products(weights, options.calibration(), dir.weightsFile());
        this.encoderOnly = weights.encoderOnly();
        if (encoderOnly && !options.hiddenStates()) {
            throw new ExportException(dir.weightsFile(), "an encoder without a classification head has no logits to export; "
                    + "export its hidden states with --hidden-states, or fine-tune it first");
        }
    }

    /**
     * Builds, validates in ONNX Runtime, and writes {@code output} with its sidecars ({@link ExportPackage}).
     */
    public OnnxMl.ModelProto export(Path output) throws IOException {
        OnnxMl.ModelProto model = build();
        ExportPackage.write(dir, model, output);
        return model;
    }

    /** After {@link #build()}: each encoder dense product's input tensor, by its weights' name (what calibration measures). */
    Map<String, String> productInputs() {
        return Map.copyOf(productInputs);
    }

    /** The ModelProto, not yet validated or written. */
    public OnnxMl.ModelProto build() throws IOException {
        productInputs.clear();
        GraphBuilder g = new GraphBuilder("convbert");
        int hidden = c.hiddenSize();
        SpanDynamicConvFunction conv = new SpanDynamicConvFunction(hidden, c.convKernelSize(), c.headSize(),
                c.paddingInvariant(), type, options.formulation());

        // embeddings
        String batchAndLength = g.shape("input_ids");                                                   // [2] = B, L
        String e = "convbert.embeddings.";
        String x = options.ortOperators() ? g.embedLayerNorm(g.cast("input_ids", INT32), g.cast("token_type_ids", INT32),
                weights.stored(g, e + "word_embeddings.weight"), weights.stored(g, e + "position_embeddings.weight"),
                weights.stored(g, e + "token_type_embeddings.weight"), weights.stored(g, e + "LayerNorm.weight"),
                weights.stored(g, e + "LayerNorm.bias"), c.layerNormEps())                                // [B,L,E]
                : embeddings(g, batchAndLength);
        // the encoder runs on token rows [B·L, width], so every dense is one 2-D MatMul + Add, which ORT turns into
        // a Gemm with the bias inside; views [B,L,…] are taken only where the sequence matters
        x = g.reshape(x, g.ints(-1, c.embeddingSize()));                                                // [N,E]
        if (c.embeddingSize() != hidden) {
            x = linear(g, x, "convbert.embeddings_project");                                             // [N,Hd]
        }
        Views views = new Views(g.concat(0, batchAndLength, g.ints(-1)),
                g.concat(0, batchAndLength, g.ints(c.selfAttentionHeads(), c.headSize())));

        // masks: on attention keys, additive (1-m)·MASKED_SCORE in float32, or the int32 [B,L] padding mask that
        // MultiHeadAttention turns into the same −10000 itself; real tokens for the convolution
        String keyMask = options.ortOperators() ? g.cast("attention_mask", INT32)
                : g.unsqueeze(g.mul(g.sub(g.scalar(1f, FLOAT), g.cast("attention_mask", FLOAT)), g.scalar(MASKED_SCORE, FLOAT)), 1, 2);
        String realTokens = g.unsqueeze(g.cast("attention_mask", type), 2);                            // [B,L,1]

        // the head reads only the first token: unless all hidden states are wanted, the last layer's attention output
        // and feed-forward run on that token alone (its attention and convolution still read every token)
        int last = c.numHiddenLayers() - 1;
        for (int l = 0; l <= last; l++) {
            x = layer(g.scoped("convbert.encoder.layer." + l), "convbert.encoder.layer." + l + ".", x,
                    keyMask, realTokens,
                    conv, views, l == last && !options.hiddenStates() && !options.unfused());
        }
        if (options.hiddenStates() || options.unfused()) {
            x = g.reshape(x, views.sequence());                                                         // [B,L,Hd]
        }

        // classification head on the first token
        List<OnnxMl.ValueInfoProto> outputs = new ArrayList<>();
        if (!encoderOnly) {
            String cls = options.hiddenStates() || options.unfused() ? g.gather(x, g.scalarInt(0), 1) : x;  // [B,Hd]
            ClassifierHead head = c.classifierHead();
            String features = head.hasDense() ? g.gelu(linear(g, cls, "classifier.dense"), type) : cls;
            String logits = linear(g, features, "classifier.out_proj");
            if (c.isRegression() && head.regressionScale() != 1.0) {
                logits = g.mul(logits, g.scalar((float) head.regressionScale(), type));                // back to the label's scale
            }
            g.node(ConvBertOps.CAST, Map.of("to", (long) FLOAT), List.of("logits"), logits);
            outputs.add(valueInfo("logits", FLOAT, "batch", Long.toString(c.numLabels())));
        }
        if (options.hiddenStates()) {
            g.node(ConvBertOps.CAST, Map.of("to", (long) FLOAT), List.of("last_hidden_state"), x);
            outputs.add(valueInfo("last_hidden_state", FLOAT, "batch", "sequence", Integer.toString(hidden)));
        }

        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder()
                .setName(encoderOnly ? "convbert_encoder" : "convbert_sequence_classification")
                .addInput(valueInfo("input_ids", INT64, "batch", "sequence"))
                .addInput(valueInfo("attention_mask", INT64, "batch", "sequence"))
                .addInput(valueInfo("token_type_ids", INT64, "batch", "sequence"))
                .addAllOutput(outputs)
                .addAllNode(g.nodes())
                .addAllInitializer(g.initializers().values());
        OnnxMl.ModelProto.Builder model = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("convbert-exporter")
                .setProducerVersion(VERSION)
                .setDomain("dev.convbert")
                .setModelVersion(1)
                .setDocString("ConvBERT sequence classification exported from " + dir.dir().getFileName())
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(ConvBertOps.ONNX_OPSET))
                .setGraph(graph);
        if (options.ortOperators()) {
            model.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(ConvBertOps.MICROSOFT).setVersion(1));
        }
        if (!options.inline()) {
            model.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(ConvBertOps.CONVBERT).setVersion(1));
            model.addFunctions(conv.function());
        }
        metadata().forEach((k, v) -> model.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build();
    }

    /** LayerNorm(word[ids] + position[0..L) + tokenType[types]) in standard operators: [B,L,E]. */
    private String embeddings(GraphBuilder g, String batchAndLength) {
        String seqLen = g.gather(batchAndLength, g.scalarInt(1), 0);
        String positions = g.unsqueeze(g.range(g.scalarInt(0), seqLen, g.scalarInt(1)), 0);             // [1,L]
        String p = "convbert.embeddings.";
        String e = g.add(g.add(
                g.gather(weights.stored(g, p + "word_embeddings.weight"), "input_ids", 0),
                g.gather(weights.stored(g, p + "position_embeddings.weight"), positions, 0)),
                g.gather(weights.stored(g, p + "token_type_embeddings.weight"), "token_type_ids", 0));   // [B,L,E]
        return g.layerNorm(e, weights.stored(g, p + "LayerNorm.weight"), weights.stored(g, p + "LayerNorm.bias"), c.layerNormEps());
    }

    /** Shapes for viewing token rows [N,·] as sequences: [B,L,-1] and attention heads [B,L,H',D]. */
    private record Views(String sequence, String heads) {}

    /** One encoder layer on token rows [N,Hd]; with {@code firstTokenOnly} it returns the first token's rows [B,Hd]. */
    private String layer(GraphBuilder g, String p, String x, String keyMask, String realTokens, SpanDynamicConvFunction conv,
                         Views views, boolean firstTokenOnly) {
        int d = c.headSize(), all = c.allHeadSize();
        String s = p + "attention.self.";
        // query, key, value and the convolution's value projection read the same rows: one product, then split
        String[] projections = options.unfused()
                ? new String[]{dense(g, x, s + "query"), dense(g, x, s + "key"), dense(g, x, s + "value"),
                        dense(g, x, s + "conv_out_layer")}
                : g.split(dense(g, x, s + "query", s + "key", s + "value", s + "conv_out_layer"), 1,
                        all, all, all, all);                                                             // 4 × [N,A]
        String q = projections[0], k = projections[1], v = projections[2];
        String qSequence = g.reshape(q, views.sequence());                                             // [B,L,A]

        String[] convInputs = {g.reshape(x, views.sequence()), qSequence,
                g.reshape(projections[3], views.sequence()), realTokens,
                weights.stored(g, s + "key_conv_attn_layer.depthwise.weight"),
                weights.stored(g, s + "key_conv_attn_layer.pointwise.weight"),
                weights.stored(g, s + "key_conv_attn_layer.bias", new long[]{all}),
                weights.transposed(g, s + "conv_kernel_layer.weight"), weights.stored(g, s + "conv_kernel_layer.bias")};
        String convOut = options.inline() ? conv.emit(g, convInputs)
                : g.op(ConvBertOps.SPAN_DYNAMIC_CONV, convInputs);                                       // [B,L,A]

        String context = options.ortOperators() ? multiHeadAttention(g, qSequence, k, v, keyMask, views)
                : attention(g, q, k, v, keyMask, views, d, all);                                        // [N,A]
        String mixed = g.concat(-1, context, g.reshape(convOut, g.ints(-1, all)));                      // [N,Hd]
        if (firstTokenOnly) {
            mixed = g.gather(g.reshape(mixed, views.sequence()), g.scalarInt(0), 1);                     // [B,Hd]
            x = g.gather(g.reshape(x, views.sequence()), g.scalarInt(0), 1);                             // [B,Hd]
        }

        String a = addAndNorm(g, dense(g, mixed, p + "attention.output.dense"), x, p + "attention.output.LayerNorm");
        return addAndNorm(g, feedForward(g, a, p), a, p + "output.LayerNorm");
    }

    /** LayerNorm(sublayer + residual): BERT's residual connection. */
    private String addAndNorm(GraphBuilder g, String sublayer, String residual, String norm) {
        String gamma = weights.stored(g, norm + ".weight"), beta = weights.stored(g, norm + ".bias");
        return options.ortOperators()
                ? g.skipLayerNorm(sublayer, residual, gamma, beta, c.layerNormEps())
                : g.layerNorm(g.add(sublayer, residual), gamma, beta, c.layerNormEps());
    }

    /** Scaled dot-product self-attention over H' heads in standard operators; {@code additive} is [B,1,1,L]. */
    private String attention(GraphBuilder g, String q, String k, String v, String additive, Views views, int d, int all) {
        String qh = g.transpose(g.reshape(q, views.heads()), 0, 2, 1, 3);                               // [B,H',L,D]
        String kh = g.transpose(g.reshape(k, views.heads()), 0, 2, 3, 1);                               // [B,H',D,L]
        String vh = g.transpose(g.reshape(v, views.heads()), 0, 2, 1, 3);                               // [B,H',L,D]
        String scores = g.div(g.matMul(qh, kh), g.scalar((float) Math.sqrt(d), type));                  // [B,H',L,L]
        if (type == FLOAT16) {
            scores = g.cast(scores, FLOAT);
        }
        String probs = g.softmax(g.add(scores, additive), -1);
        if (type == FLOAT16) {
            probs = g.cast(probs, FLOAT16);
        }
        return g.reshape(g.transpose(g.matMul(probs, vh), 0, 2, 1, 3), g.ints(-1, all));              // [N,A]
    }

    /** The same attention as ONNX Runtime's one MultiHeadAttention kernel; q is [B,L,A], {@code keyPadding} int32 [B,L]. */
    private String multiHeadAttention(GraphBuilder g, String q, String k, String v, String keyPadding, Views views) {
        String out = g.op(ConvBertOps.MULTI_HEAD_ATTENTION,
                Map.of("num_heads", (long) c.selfAttentionHeads(), "mask_filter_value", MASKED_SCORE),
                q, g.reshape(k, views.sequence()), g.reshape(v, views.sequence()),
                "", keyPadding);                                                                         // [B,L,A]
        return g.reshape(out, g.ints(-1, c.allHeadSize()));                                             // [N,A]
    }

    /**
     * intermediate.dense → GELU → output.dense on token rows [N,Hd]. Grouped (num_groups &gt; 1, HF's
     * GroupedLinearLayer: group g maps channels [g·in/G, (g+1)·in/G) to [g·out/G, (g+1)·out/G)): the groups are moved in
     * front of the rows once, so each group is one [N, in/G] × [in/G, out/G] product for both denses — the
     * intermediate's output groups are exactly the output dense's input groups. (A per-token [1, in/G] product,
     * [B,L,G,1,in/G] × [G,in/G,out/G], ran 5× slower in ONNX Runtime: half the model's time at batch 1.)
     */
    private String feedForward(GraphBuilder g, String a, String p) {
        String inner = p + "intermediate.dense";
        String outer = p + "output.dense";
        int groups = c.numGroups();
        if (groups == 1) {
            return dense(g, g.gelu(dense(g, a, inner), type), outer);
        }
        if (quantized()) {
            return quantizedGroupedFeedForward(g, a, inner, outer);
        }
        long[] w1 = weights.shape(inner + ".weight");                                              // [G,in/G,I/G]
        String grouped = g.transpose(g.reshape(a, g.ints(-1, groups, w1[1])), 1, 0, 2);                  // [G,N,in/G]
        String h = g.add(g.matMul(grouped, weights.stored(g, inner + ".weight")),
                weights.stored(g, inner + ".bias", groups, 1, w1[2]));                                      // [G,N,I/G]
        String activated = g.gelu(h, type);
        // each group's int8 product is calibrated on the range of all groups' inputs
        productInputs.put(inner, a);
        productInputs.put(outer, activated);
        String y = g.matMul(activated, weights.stored(g, outer + ".weight"));                           // [G,N,Hd/G]
        String merged = g.reshape(g.transpose(y, 1, 0, 2), g.ints(-1, c.hiddenSize()));                  // [N,Hd]
        return g.add(merged, weights.stored(g, outer + ".bias"));
    }

    /**
     * The grouped feed-forward with int8 products: MatMulInteger has no batched form with per-column weight scales,
     * so the rows' channel groups are split off and each group is two 2-D quantised products; group k's outputs are
     * columns [k·Hd/G, (k+1)·Hd/G), as in HF's GroupedLinearLayer.
     */
    private String quantizedGroupedFeedForward(GraphBuilder g, String a, String inner, String outer) {
        int groups = c.numGroups();
        long[] w1 = weights.shape(inner + ".weight");                                              // [G,in/G,I/G]
        int in1 = (int) w1[1], out1 = (int) w1[2], out2 = (int) weights.shape(outer + ".weight")[2];
        float[] w1s = weights.floats(inner + ".weight"), b1 = weights.floats(inner + ".bias");
        float[] w2s = weights.floats(outer + ".weight"), b2 = weights.floats(outer + ".bias");
        long[] sizes = new long[groups];
        Arrays.fill(sizes, in1);
        String[] parts = g.split(a, 1, sizes);                                                          // G × [N,in/G]
        String[] outs = new String[groups];
        for (int k = 0; k < groups; k++) {
            String h = int8.product(g, parts[k], inner + ".group" + k, inner, in1, out1,
                    Arrays.copyOfRange(w1s, k * in1 * out1, (k + 1) * in1 * out1), Arrays.copyOfRange(b1, k * out1, (k + 1) * out1));
            outs[k] = int8.product(g, g.gelu(h, type), outer + ".group" + k, outer, out1, out2,
                    Arrays.copyOfRange(w2s, k * out1 * out2, (k + 1) * out1 * out2), Arrays.copyOfRange(b2, k * out2, (k + 1) * out2));
        }
        return g.concat(1, outs);                                                                        // [N,Hd]
    }

    private boolean quantized() {
        return options.precision() == ExportOptions.Precision.INT8;
    }

    /** An encoder dense product: {@link #linear}, or int8 when exporting {@link ExportOptions.Precision#INT8}. */
    private String dense(GraphBuilder g, String x, String... names) {
        if (!quantized()) {
            productInputs.put(String.join("+", names), x);
            return linear(g, x, names);
        }
        ExportWeights.Joined j = weights.joined(names);
        return int8.product(g, x, j.name(), j.name(), j.in(), j.out(), j.weightT(), j.bias());
    }

    /**
     * x · Wᵀ + b. Several linears reading the same input ({@code names}) become one product over their concatenated
     * weights ({@code <first>+<…>.T} [in, Σout], bias {@code <first>+<…>.bias}); the caller splits the result.
     */
    private String linear(GraphBuilder g, String x, String... names) {
        if (names.length == 1) {
            return g.add(g.matMul(x, weights.transposed(g, names[0] + ".weight")), weights.stored(g, names[0] + ".bias"));
        }
        ExportWeights.Joined j = weights.joined(names);
        return g.add(g.matMul(x, weights.initializer(g, j.name() + ".T", new long[]{j.in(), j.out()}, j.weightT())),
                weights.initializer(g, j.name() + ".bias", new long[]{j.out()}, j.bias()));
    }

    private Map<String, String> metadata() throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("convbert.config", c.toJson().toString());
        m.put("convbert.labels", JSON.writeValueAsString(c.id2label()));
        m.put("convbert.padding_invariant", Boolean.toString(c.paddingInvariant()));
        m.put("convbert.precision", options.precision().label());
        if (options.staticInt8()) {
            m.put("convbert.int8_activations", "static, calibrated on " + options.calibration().source());
        }
        m.put("convbert.span_dynamic_conv", options.inline() ? "inline" : "function " + ConvBertOps.SPAN_DYNAMIC_CONV.domain()
                + ":" + ConvBertOps.SPAN_DYNAMIC_CONV.opName());
        m.put("convbert.layout", options.unfused() ? "unfused (standard-export stand-in)"
                : options.ortOperators() ? "fused, ONNX Runtime contrib operators" : "fused");
        m.put("convbert.exporter_version", VERSION);
        if (dir.hasVocab()) {
            m.put("convbert.vocab_sha256", Hashing.sha256(dir.vocabFile()));
        }
        JsonNode tm = dir.trainingMetrics();
        if (tm != null && tm.has("task") && tm.has("best")) {
            m.put("convbert.task", tm.get("task").asText());
            m.put("convbert.metric", tm.get("metric").asText());
            m.put("convbert.dev_split", tm.path("dev_split").asText("dev"));
            m.put("convbert.dev_metric", Double.toString(tm.get("best").get("value").asDouble()));
            m.put("convbert.training_metrics", tm.toString());
        }
        return m;
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, int elemType, String... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (String d : dims) {
            if (d.chars().allMatch(Character::isDigit)) {
                shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(Long.parseLong(d)));
            } else {
                shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(d));
            }
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                        OnnxMl.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }
}
