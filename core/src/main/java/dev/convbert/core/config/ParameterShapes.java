package dev.convbert.core.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The HuggingFace parameter names and shapes of {@code ConvBertForSequenceClassification} for a config, written out as
 * data: what a model directory must hold. The DJL model's block tree is tested to yield exactly these.
 */
public final class ParameterShapes {
    private ParameterShapes() {}

    /** Names with the {@code convbert.} prefix, then {@code classifier.*}, in HF's order. */
    public static Map<String, long[]> sequenceClassification(ConvBertConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        encoder(c, "convbert.", m);
        long h = c.hiddenSize();
        if (c.classifierHead().hasDense()) {
            m.put("classifier.dense.weight", new long[]{h, h});
            m.put("classifier.dense.bias", new long[]{h});
        }
        m.put("classifier.out_proj.weight", new long[]{c.numLabels(), h});
        m.put("classifier.out_proj.bias", new long[]{c.numLabels()});
        return m;
    }

    /** The encoder ({@code ConvBertModel}) under {@code prefix}. */
    public static void encoder(ConvBertConfig c, String prefix, Map<String, long[]> m) {
        long e = c.embeddingSize(), h = c.hiddenSize(), a = c.allHeadSize(), i = c.intermediateSize();
        long k = c.convKernelSize(), kernels = (long) c.selfAttentionHeads() * k, g = c.numGroups();
        m.put(prefix + "embeddings.word_embeddings.weight", new long[]{c.vocabSize(), e});
        m.put(prefix + "embeddings.position_embeddings.weight", new long[]{c.maxPositionEmbeddings(), e});
        m.put(prefix + "embeddings.token_type_embeddings.weight", new long[]{c.typeVocabSize(), e});
        m.put(prefix + "embeddings.LayerNorm.weight", new long[]{e});
        m.put(prefix + "embeddings.LayerNorm.bias", new long[]{e});
        if (e != h) {
            m.put(prefix + "embeddings_project.weight", new long[]{h, e});
            m.put(prefix + "embeddings_project.bias", new long[]{h});
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = prefix + "encoder.layer." + l + ".";
            for (String proj : new String[]{"query", "key", "value"}) {
                m.put(p + "attention.self." + proj + ".weight", new long[]{a, h});
                m.put(p + "attention.self." + proj + ".bias", new long[]{a});
            }
            m.put(p + "attention.self.key_conv_attn_layer.depthwise.weight", new long[]{h, 1, k});
            m.put(p + "attention.self.key_conv_attn_layer.pointwise.weight", new long[]{a, h, 1});
            m.put(p + "attention.self.key_conv_attn_layer.bias", new long[]{a, 1});
            m.put(p + "attention.self.conv_kernel_layer.weight", new long[]{kernels, a});
            m.put(p + "attention.self.conv_kernel_layer.bias", new long[]{kernels});
            m.put(p + "attention.self.conv_out_layer.weight", new long[]{a, h});
            m.put(p + "attention.self.conv_out_layer.bias", new long[]{a});
            m.put(p + "attention.output.dense.weight", new long[]{h, h});
            m.put(p + "attention.output.dense.bias", new long[]{h});
            m.put(p + "attention.output.LayerNorm.weight", new long[]{h});
            m.put(p + "attention.output.LayerNorm.bias", new long[]{h});
            m.put(p + "intermediate.dense.weight", g > 1 ? new long[]{g, h / g, i / g} : new long[]{i, h});
            m.put(p + "intermediate.dense.bias", new long[]{i});
            m.put(p + "output.dense.weight", g > 1 ? new long[]{g, i / g, h / g} : new long[]{h, i});
            m.put(p + "output.dense.bias", new long[]{h});
            m.put(p + "output.LayerNorm.weight", new long[]{h});
            m.put(p + "output.LayerNorm.bias", new long[]{h});
        }
    }
}
