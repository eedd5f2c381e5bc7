package dev.convbert.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The model hyper-parameters, read from and written to HuggingFace's {@code config.json} with HF's
 * {@code ConvBertConfig} field names (so hub checkpoints load unchanged and ours load in HF).
 *
 * <p>Fields this class does not model ({@code architectures}, {@code torch_dtype}, …) are kept in {@link #extra()} and
 * written back. Our additions: {@code padding_invariant} masks padded positions out of the span-based dynamic
 * convolution (absent means HF/TF semantics, where padding leaks into the windows of the last real tokens);
 * {@code classifier_head} = {@code electra} selects the original fine-tuning head ({@link ClassifierHead}; absent = HF's).
 *
 * @param numAttentionHeads the config value H; self-attention runs on H / head_ratio heads, the convolution on as many
 * @param classifierDropout {@code null} means "use hidden_dropout_prob", as in HF
 * @param id2label label names by class index; its size is num_labels (1 = regression)
 */
public record ConvBertConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        double hiddenDropoutProb,
        double attentionProbsDropoutProb,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double initializerRange,
        double layerNormEps,
        int padTokenId,
        int embeddingSize,
        int headRatio,
        int convKernelSize,
        int numGroups,
        Double classifierDropout,
        List<String> id2label,
        boolean paddingInvariant,
        ObjectNode extra) {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private static final Set<String> KNOWN = Set.of("vocab_size", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "hidden_act", "hidden_dropout_prob",
            "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "initializer_range",
            "layer_norm_eps", "pad_token_id", "embedding_size", "head_ratio", "conv_kernel_size", "num_groups",
            "classifier_dropout", "id2label", "label2id", "num_labels", "padding_invariant");

    public ConvBertConfig {
        id2label = List.copyOf(id2label);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
        if (!extra.has("model_type")) {
            extra.put("model_type", "convbert");
        }
        validate(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                maxPositionEmbeddings, typeVocabSize, embeddingSize, headRatio, convKernelSize, numGroups, id2label);
        if (extra.has("classifier_head")) {
            ClassifierHead.of(extra.get("classifier_head").asText());
        }
        validateRanges(hiddenDropoutProb, attentionProbsDropoutProb, classifierDropout, initializerRange, layerNormEps,
                padTokenId, vocabSize);
    }

    /**
     * Parameter memory in float32 bytes: what loading, initialising or exporting the weights needs at least once on the
     * heap. Refused before anything is allocated when it exceeds the JVM's maximum heap ({@code what} names the task).
     */
    public void requireFitsInHeap(String what) {
        long bytes;
        try {
            bytes = Math.multiplyExact(parameterCount() + (long) hiddenSize * hiddenSize + (long) hiddenSize * numLabels(), 4L);
        } catch (ArithmeticException e) {
            bytes = Long.MAX_VALUE;
        }
        long heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap) {
            throw new ConfigException(String.format(java.util.Locale.ROOT, "%s: the config (hidden_size %d, num_hidden_layers %d, "
                    + "intermediate_size %d, vocab_size %d) has %s parameters = %.1f GiB in float32, more than this JVM's "
                    + "%.1f GiB heap; check the config, or raise the heap (CONVBERT_JAVA_OPTS=-Xmx…)", what, hiddenSize,
                    numHiddenLayers, intermediateSize, vocabSize, bytes == Long.MAX_VALUE ? "too many" : Long.toString(bytes / 4),
                    bytes / (double) (1L << 30), heap / (double) (1L << 30)));
        }
    }

    // ---- derived geometry (names as in docs/RECIPE.md §a.2) ----

    /** H' = H / head_ratio: heads of ordinary self-attention, and equally many convolution heads. */
    public int selfAttentionHeads() {
        return Math.max(1, numAttentionHeads / headRatio);
    }

    /** D = hidden_size / H. */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /** A = H' · D = hidden_size / 2: width of each of the attention and convolution branches. */
    public int allHeadSize() {
        return selfAttentionHeads() * headSize();
    }

    public int numLabels() {
        return id2label.size();
    }

    public boolean isRegression() {
        return id2label.size() == 1;
    }

    public double effectiveClassifierDropout() {
        return classifierDropout != null ? classifierDropout : hiddenDropoutProb;
    }

    // ---- presets (paper / original code, docs/RECIPE.md §b) ----

    public static ConvBertConfig small() {
        return preset(256, 4, 1024, 128, 1);
    }

    public static ConvBertConfig mediumSmall() {
        return preset(384, 8, 1536, 128, 2);
    }

    public static ConvBertConfig base() {
        return preset(768, 12, 3072, 768, 1);
    }

    /** {@code small}, {@code medium-small} or {@code base}. */
    public static ConvBertConfig preset(String name) {
        return switch (name) {
            case "small" -> small();
            case "medium-small" -> mediumSmall();
            case "base" -> base();
            default -> throw new ConfigException("unknown preset \"" + name + "\"; expected small, medium-small or base");
        };
    }

    private static ConvBertConfig preset(int hidden, int heads, int intermediate, int embedding, int groups) {
        return new ConvBertConfig(30522, hidden, 12, heads, intermediate, "gelu", 0.1, 0.1, 512, 2, 0.02, 1e-12, 0,
                embedding, 2, 9, groups, null, List.of("LABEL_0", "LABEL_1"), true, null);
    }

    public ConvBertConfig withLabels(List<String> labels) {
        return new ConvBertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange,
                layerNormEps, padTokenId, embeddingSize, headRatio, convKernelSize, numGroups, classifierDropout, labels,
                paddingInvariant, extra);
    }

    public ConvBertConfig withVocabSize(int vocab) {
        return new ConvBertConfig(vocab, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange,
                layerNormEps, padTokenId, embeddingSize, headRatio, convKernelSize, numGroups, classifierDropout,
                id2label, paddingInvariant, extra);
    }

    /** A copy with {@code extra[key] = value} (fields this class does not model, kept in config.json). */
    public ConvBertConfig withExtra(String key, String value) {
        return withExtra(key, JsonNodeFactory.instance.textNode(value));
    }

    /** A copy with {@code extra[key] = value}, any JSON value ({@code architectures} is a list). */
    public ConvBertConfig withExtra(String key, JsonNode value) {
        ObjectNode e = extra.deepCopy();
        e.set(key, value);
        return new ConvBertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange,
                layerNormEps, padTokenId, embeddingSize, headRatio, convKernelSize, numGroups, classifierDropout,
                id2label, paddingInvariant, e);
    }

    /** The task head; {@code classifier_head} in config.json, absent for HF's. */
    public ClassifierHead classifierHead() {
        return extra.has("classifier_head") ? ClassifierHead.of(extra.get("classifier_head").asText()) : ClassifierHead.HF;
    }

    public ConvBertConfig withClassifierHead(ClassifierHead head) {
        ObjectNode e = extra.deepCopy();
        if (head == ClassifierHead.HF) {
            e.remove("classifier_head");       // HF's config.json, unchanged
        } else {
            e.put("classifier_head", head.id());
        }
        return new ConvBertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange,
                layerNormEps, padTokenId, embeddingSize, headRatio, convKernelSize, numGroups, classifierDropout,
                id2label, paddingInvariant, e);
    }

    public ConvBertConfig withPaddingInvariant(boolean invariant) {
        return new ConvBertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange,
                layerNormEps, padTokenId, embeddingSize, headRatio, convKernelSize, numGroups, classifierDropout,
                id2label, invariant, extra);
    }

    /**
     * Parameters of the encoder ({@code ConvBertModel}: embeddings + layers), not counting task heads.
     */
    public long parameterCount() {
        long e = embeddingSize;
        long h = hiddenSize;
        long a = allHeadSize();
        long kernels = (long) selfAttentionHeads() * convKernelSize;
        long inter = intermediateSize;
        long emb = (vocabSize + maxPositionEmbeddings + typeVocabSize) * e + 2 * e;
        if (embeddingSize != hiddenSize) {
            emb += e * h + h;
        }
        long layer = 3 * (a * h + a)                      // query, key, value
                + h * convKernelSize + a * h + a          // key_conv_attn_layer: depthwise, pointwise, bias
                + kernels * a + kernels                   // conv_kernel_layer
                + a * h + a                               // conv_out_layer
                + h * h + h + 2 * h                       // attention.output.dense + LayerNorm
                + h * inter / numGroups + inter           // intermediate.dense (grouped when G > 1)
                + inter * h / numGroups + h + 2 * h;      // output.dense + LayerNorm
        return emb + numHiddenLayers * layer;
    }

    // ---- JSON ----

    public static ConvBertConfig read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": expected a JSON object");
        }
        try {
            return fromJson((ObjectNode) root);
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    public static ConvBertConfig fromJson(ObjectNode root) {
        var f = new Fields(root);
        List<String> labels = labels(root);
        return new ConvBertConfig(
                f.integer("vocab_size", 30522),
                f.integer("hidden_size", 768),
                f.integer("num_hidden_layers", 12),
                f.integer("num_attention_heads", 12),
                f.integer("intermediate_size", 3072),
                f.string("hidden_act", "gelu"),
                f.number("hidden_dropout_prob", 0.1),
                f.number("attention_probs_dropout_prob", 0.1),
                f.integer("max_position_embeddings", 512),
                f.integer("type_vocab_size", 2),
                f.number("initializer_range", 0.02),
                f.number("layer_norm_eps", 1e-12),
                f.integer("pad_token_id", 1),
                f.integer("embedding_size", 768),
                f.integer("head_ratio", 2),
                f.integer("conv_kernel_size", 9),
                f.integer("num_groups", 1),
                root.hasNonNull("classifier_dropout") ? f.number("classifier_dropout", 0.1) : null,
                labels,
                root.has("padding_invariant") && f.bool("padding_invariant"),
                extras(root));
    }

    private static List<String> labels(ObjectNode root) {
        JsonNode id2label = root.get("id2label");
        JsonNode numLabels = root.get("num_labels");
        if (id2label != null && !id2label.isNull()) {
            if (!id2label.isObject()) {
                throw new ConfigException("field \"id2label\" must be an object {\"0\": name, …}");
            }
            TreeMap<Integer, String> byId = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = id2label.fields(); it.hasNext(); ) {
                var e = it.next();
                try {
                    byId.put(Integer.parseInt(e.getKey()), e.getValue().asText());
                } catch (NumberFormatException ex) {
                    throw new ConfigException("field \"id2label\": key \"" + e.getKey() + "\" is not a class index");
                }
            }
            if (byId.isEmpty() || byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
                throw new ConfigException("field \"id2label\": keys must be 0.." + (byId.size() - 1) + ", found " + byId.keySet());
            }
            if (numLabels != null && numLabels.asInt() != byId.size()) {
                throw new ConfigException("field \"num_labels\" is " + numLabels.asInt() + " but id2label has "
                        + byId.size() + " entries");
            }
            return new ArrayList<>(byId.values());
        }
        int n = numLabels == null ? 2 : numLabels.asInt();
        if (n < 1) {
            throw new ConfigException("field \"num_labels\" must be >= 1, found " + n);
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("LABEL_" + i);
        }
        return names;
    }

    private static ObjectNode extras(ObjectNode root) {
        ObjectNode extra = JsonNodeFactory.instance.objectNode();
        root.fields().forEachRemaining(e -> {
            if (!KNOWN.contains(e.getKey())) {
                extra.set(e.getKey(), e.getValue());
            }
        });
        return extra;
    }

    public ObjectNode toJson() {
        TreeMap<String, JsonNode> sorted = new TreeMap<>();
        extra.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
        var n = JsonNodeFactory.instance;
        sorted.put("vocab_size", n.numberNode(vocabSize));
        sorted.put("hidden_size", n.numberNode(hiddenSize));
        sorted.put("num_hidden_layers", n.numberNode(numHiddenLayers));
        sorted.put("num_attention_heads", n.numberNode(numAttentionHeads));
        sorted.put("intermediate_size", n.numberNode(intermediateSize));
        sorted.put("hidden_act", n.textNode(hiddenAct));
        sorted.put("hidden_dropout_prob", n.numberNode(hiddenDropoutProb));
        sorted.put("attention_probs_dropout_prob", n.numberNode(attentionProbsDropoutProb));
        sorted.put("max_position_embeddings", n.numberNode(maxPositionEmbeddings));
        sorted.put("type_vocab_size", n.numberNode(typeVocabSize));
        sorted.put("initializer_range", n.numberNode(initializerRange));
        sorted.put("layer_norm_eps", n.numberNode(layerNormEps));
        sorted.put("pad_token_id", n.numberNode(padTokenId));
        sorted.put("embedding_size", n.numberNode(embeddingSize));
        sorted.put("head_ratio", n.numberNode(headRatio));
        sorted.put("conv_kernel_size", n.numberNode(convKernelSize));
        sorted.put("num_groups", n.numberNode(numGroups));
        sorted.put("classifier_dropout", classifierDropout == null ? n.nullNode() : n.numberNode(classifierDropout));
        ObjectNode id2 = n.objectNode();
        ObjectNode l2i = n.objectNode();
        for (int i = 0; i < id2label.size(); i++) {
            id2.put(Integer.toString(i), id2label.get(i));
            l2i.put(id2label.get(i), i);
        }
        sorted.put("id2label", id2);
        sorted.put("label2id", l2i);
        sorted.put("num_labels", n.numberNode(id2label.size()));
        if (paddingInvariant) {
            sorted.put("padding_invariant", n.booleanNode(true));
        }
        ObjectNode out = n.objectNode();
        sorted.forEach(out::set);
        return out;
    }

    public String toJsonString() {
        try {
            return JSON.writeValueAsString(toJson()) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toJsonString());
    }

    private static void validate(int vocab, int hidden, int layers, int heads, int inter, String act, int maxPos,
                                 int typeVocab, int emb, int headRatio, int kernel, int groups, List<String> labels) {
        positive("vocab_size", vocab);
        positive("hidden_size", hidden);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("intermediate_size", inter);
        positive("max_position_embeddings", maxPos);
        positive("type_vocab_size", typeVocab);
        positive("embedding_size", emb);
        positive("head_ratio", headRatio);
        positive("num_groups", groups);
        atMost("vocab_size", vocab, 1 << 22);
        atMost("hidden_size", hidden, MAX_WIDTH);
        atMost("num_hidden_layers", layers, MAX_LAYERS);
        atMost("num_attention_heads", heads, hidden);
        atMost("intermediate_size", inter, 4 * MAX_WIDTH);
        atMost("max_position_embeddings", maxPos, 1 << 20);
        atMost("type_vocab_size", typeVocab, 1 << 10);
        atMost("embedding_size", emb, MAX_WIDTH);
        atMost("conv_kernel_size", kernel, 1 << 10);
        if (!act.equals("gelu")) {
            throw new ConfigException("field \"hidden_act\" is \"" + act + "\"; only \"gelu\" (exact erf GELU, as in HF and the original) is supported");
        }
        if (hidden % heads != 0) {
            throw new ConfigException("hidden_size (" + hidden + ") must be divisible by num_attention_heads (" + heads + ")");
        }
        int reduced = Math.max(1, heads / headRatio);
        if (2 * reduced * (hidden / heads) != hidden) {
            throw new ConfigException("num_attention_heads (" + heads + ") / head_ratio (" + headRatio + ") × head size ("
                    + hidden / heads + ") must be hidden_size/2 (" + hidden / 2 + "); only head_ratio 2 layouts are supported, as in HF");
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw new ConfigException("conv_kernel_size (" + kernel + ") must be odd and positive");
        }
        if (hidden % groups != 0 || inter % groups != 0) {
            throw new ConfigException("hidden_size (" + hidden + ") and intermediate_size (" + inter
                    + ") must be divisible by num_groups (" + groups + ")");
        }
        if (labels.isEmpty()) {
            throw new ConfigException("num_labels must be >= 1");
        }
    }

    /** Upper bounds far beyond any ConvBERT; a larger value is a typo or an attack, not a model. */
    private static final int MAX_WIDTH = 1 << 16;
    private static final int MAX_LAYERS = 1024;

    private static void validateRanges(double hiddenDropout, double attentionDropout, Double classifierDropout,
                                       double initializerRange, double layerNormEps, int padTokenId, int vocab) {
        inRange("hidden_dropout_prob", hiddenDropout, 0, 1, "[0, 1)");
        inRange("attention_probs_dropout_prob", attentionDropout, 0, 1, "[0, 1)");
        if (classifierDropout != null) {
            inRange("classifier_dropout", classifierDropout, 0, 1, "[0, 1) or null");
        }
        if (!(initializerRange >= 0 && initializerRange <= 1)) {
            throw new ConfigException("field \"initializer_range\" is " + initializerRange + "; allowed [0, 1]");
        }
        // eps ≤ 0 divides by zero on a constant row (NaN logits with exit 0); above 1 it swamps the variance
        if (!(layerNormEps > 0 && layerNormEps <= 1)) {
            throw new ConfigException("field \"layer_norm_eps\" is " + layerNormEps + "; allowed (0, 1], typically 1e-12");
        }
        if (padTokenId < 0 || padTokenId >= vocab) {
            throw new ConfigException("field \"pad_token_id\" is " + padTokenId + "; allowed [0, vocab_size " + vocab + ")");
        }
    }

    private static void inRange(String field, double v, double lo, double hiExclusive, String allowed) {
        if (!(v >= lo && v < hiExclusive)) {
            throw new ConfigException("field \"" + field + "\" is " + v + "; allowed " + allowed);
        }
    }

    private static void atMost(String field, int v, int max) {
        if (v > max) {
            throw new ConfigException("field \"" + field + "\" is " + v + "; allowed at most " + max);
        }
    }

    private static void positive(String field, int v) {
        if (v <= 0) {
            throw new ConfigException("field \"" + field + "\" must be positive, found " + v);
        }
    }

    /** Typed field access with HF defaults and errors that name the field. */
    private record Fields(ObjectNode root) {
        int integer(String name, int dflt) {
            JsonNode v = root.get(name);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new ConfigException("field \"" + name + "\" must be an integer, found " + v);
            }
            return v.asInt();
        }

        double number(String name, double dflt) {
            JsonNode v = root.get(name);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isNumber()) {
                throw new ConfigException("field \"" + name + "\" must be a number, found " + v);
            }
            return v.asDouble();
        }

        String string(String name, String dflt) {
            JsonNode v = root.get(name);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isTextual()) {
                throw new ConfigException("field \"" + name + "\" must be a string, found " + v);
            }
            return v.asText();
        }

        boolean bool(String name) {
            JsonNode v = root.get(name);
            if (!v.isBoolean()) {
                throw new ConfigException("field \"" + name + "\" must be true or false, found " + v);
            }
            return v.asBoolean();
        }
    }

    @Override
    public String toString() {
        return toJsonString();
    }
}
