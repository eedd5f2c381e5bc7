package dev.convbert.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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

    public ConvBertConfig {
        id2label = List.copyOf(id2label);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
        if (!extra.has("model_type")) {
            extra.put("model_type", "convbert");
        }
        ConfigLimits.validate(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                maxPositionEmbeddings, typeVocabSize, embeddingSize, headRatio, convKernelSize, numGroups, id2label);
        if (extra.has("classifier_head")) {
            ClassifierHead.of(extra.get("classifier_head").asText());
        }
        ConfigLimits.validateRanges(hiddenDropoutProb, attentionProbsDropoutProb, classifierDropout, initializerRange, layerNormEps,
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

    /** HF's defaults (BERT-base geometry, one group, two labels): the start of every preset and of config.json. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Two layers 32 wide (embedding 16, kernel 5, two groups): small enough for a test to train in seconds. */
    public static ConvBertConfig tiny() {
        return builder().hiddenSize(32).numHiddenLayers(2).numAttentionHeads(4).intermediateSize(64).embeddingSize(16)
                .convKernelSize(5).numGroups(2).maxPositionEmbeddings(128).padTokenId(0).paddingInvariant(true).build();
    }

    public static ConvBertConfig small() {
        return paper(256, 4, 1024, 128, 1);
    }

    public static ConvBertConfig mediumSmall() {
        return paper(384, 8, 1536, 128, 2);
    }

    public static ConvBertConfig base() {
        return paper(768, 12, 3072, 768, 1);
    }

    /** {@code tiny}, {@code small}, {@code medium-small} or {@code base}. */
    public static ConvBertConfig preset(String name) {
        return switch (name) {
            case "tiny" -> tiny();
            case "small" -> small();
            case "medium-small" -> mediumSmall();
            case "base" -> base();
            default -> throw new ConfigException("unknown preset \"" + name + "\"; expected tiny, small, medium-small or base");
        };
    }

    /** What {@code --config} takes: a preset's name or a config.json's path. */
    public static ConvBertConfig presetOrFile(String spec) throws IOException {
        return isFile(spec) ? read(Path.of(spec)) : preset(spec);
    }

    private static boolean isFile(String spec) {
        return spec.endsWith(".json") || java.nio.file.Files.isRegularFile(Path.of(spec));
    }

    /**
     * {@link #presetOrFile} for a model built on {@code vocab} of {@code tokens} tokens: a preset takes that size; a
     * config.json must already say it, or the embedding table and the tokenizer would disagree.
     */
    public static ConvBertConfig forVocabulary(String spec, Path vocab, int tokens) throws IOException {
        if (!isFile(spec)) {
            return preset(spec).withVocabSize(tokens);
        }
        ConvBertConfig c = read(Path.of(spec));
        if (c.vocabSize() != tokens) {
            throw new ConfigException(spec + ": vocab_size " + c.vocabSize() + " but " + vocab + " has " + tokens
                    + " tokens; use a config made for that vocabulary, or a preset name");
        }
        return c;
    }

    private static ConvBertConfig paper(int hidden, int heads, int intermediate, int embedding, int groups) {
        return builder().hiddenSize(hidden).numAttentionHeads(heads).intermediateSize(intermediate).embeddingSize(embedding)
                .numGroups(groups).padTokenId(0).paddingInvariant(true).build();
    }

    public ConvBertConfig withLabels(List<String> labels) {
        return toBuilder().id2label(labels).build();
    }

    public ConvBertConfig withVocabSize(int vocab) {
        return toBuilder().vocabSize(vocab).build();
    }

    /** A copy with {@code extra[key] = value} (fields this class does not model, kept in config.json). */
    public ConvBertConfig withExtra(String key, String value) {
        return withExtra(key, JsonNodeFactory.instance.textNode(value));
    }

    /** A copy with {@code extra[key] = value}, any JSON value ({@code architectures} is a list). */
    public ConvBertConfig withExtra(String key, JsonNode value) {
        ObjectNode e = extra.deepCopy();
        e.set(key, value);
        return toBuilder().extra(e).build();
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
        return toBuilder().extra(e).build();
    }

    public ConvBertConfig withPaddingInvariant(boolean invariant) {
        return toBuilder().paddingInvariant(invariant).build();
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

    /** HF's config.json; a missing field takes HF's default, an unknown one is kept in {@link #extra()}. */
    public static ConvBertConfig read(Path file) throws IOException {
        return ConfigJson.read(file);
    }

    public static ConvBertConfig fromJson(ObjectNode root) {
        return ConfigJson.fromJson(root);
    }

    /** HF's config.json fields, sorted, with id2label, label2id and num_labels. */
    public ObjectNode toJson() {
        return ConfigJson.toJson(this);
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

    /**
     * Builds a config field by field; {@link #builder()} starts from HF's defaults, {@link #toBuilder()} from a config.
     * Setters are named as the record's components; {@link #build()} validates.
     */
    public static final class Builder {
        private int vocabSize = 30522;
        private int hiddenSize = 768;
        private int numHiddenLayers = 12;
        private int numAttentionHeads = 12;
        private int intermediateSize = 3072;
        private String hiddenAct = "gelu";
        private double hiddenDropoutProb = 0.1;
        private double attentionProbsDropoutProb = 0.1;
        private int maxPositionEmbeddings = 512;
        private int typeVocabSize = 2;
        private double initializerRange = 0.02;
        private double layerNormEps = 1e-12;
        private int padTokenId = 1;
        private int embeddingSize = 768;
        private int headRatio = 2;
        private int convKernelSize = 9;
        private int numGroups = 1;
        private Double classifierDropout = null;
        private List<String> id2label = List.of("LABEL_0", "LABEL_1");
        private boolean paddingInvariant = false;
        private ObjectNode extra = null;

        private Builder() {
        }

        private Builder(ConvBertConfig c) {
            vocabSize = c.vocabSize();
            hiddenSize = c.hiddenSize();
            numHiddenLayers = c.numHiddenLayers();
            numAttentionHeads = c.numAttentionHeads();
            intermediateSize = c.intermediateSize();
            hiddenAct = c.hiddenAct();
            hiddenDropoutProb = c.hiddenDropoutProb();
            attentionProbsDropoutProb = c.attentionProbsDropoutProb();
            maxPositionEmbeddings = c.maxPositionEmbeddings();
            typeVocabSize = c.typeVocabSize();
            initializerRange = c.initializerRange();
            layerNormEps = c.layerNormEps();
            padTokenId = c.padTokenId();
            embeddingSize = c.embeddingSize();
            headRatio = c.headRatio();
            convKernelSize = c.convKernelSize();
            numGroups = c.numGroups();
            classifierDropout = c.classifierDropout();
            id2label = c.id2label();
            paddingInvariant = c.paddingInvariant();
            extra = c.extra();
        }

        public Builder vocabSize(int value) { vocabSize = value; return this; }
        public Builder hiddenSize(int value) { hiddenSize = value; return this; }
        public Builder numHiddenLayers(int value) { numHiddenLayers = value; return this; }
        public Builder numAttentionHeads(int value) { numAttentionHeads = value; return this; }
        public Builder intermediateSize(int value) { intermediateSize = value; return this; }
        public Builder hiddenAct(String value) { hiddenAct = value; return this; }
        public Builder hiddenDropoutProb(double value) { hiddenDropoutProb = value; return this; }
        public Builder attentionProbsDropoutProb(double value) { attentionProbsDropoutProb = value; return this; }
        public Builder maxPositionEmbeddings(int value) { maxPositionEmbeddings = value; return this; }
        public Builder typeVocabSize(int value) { typeVocabSize = value; return this; }
        public Builder initializerRange(double value) { initializerRange = value; return this; }
        public Builder layerNormEps(double value) { layerNormEps = value; return this; }
        public Builder padTokenId(int value) { padTokenId = value; return this; }
        public Builder embeddingSize(int value) { embeddingSize = value; return this; }
        public Builder headRatio(int value) { headRatio = value; return this; }
        public Builder convKernelSize(int value) { convKernelSize = value; return this; }
        public Builder numGroups(int value) { numGroups = value; return this; }
        public Builder classifierDropout(Double value) { classifierDropout = value; return this; }
        public Builder id2label(List<String> value) { id2label = value; return this; }
        public Builder paddingInvariant(boolean value) { paddingInvariant = value; return this; }
        public Builder extra(ObjectNode value) { extra = value; return this; }
        public ConvBertConfig build() {
            return new ConvBertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                    hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange,
                    layerNormEps, padTokenId, embeddingSize, headRatio, convKernelSize, numGroups, classifierDropout,
                    id2label, paddingInvariant, extra);
        }
    }

    @Override
    public String toString() {
        return toJsonString();
    }
}
