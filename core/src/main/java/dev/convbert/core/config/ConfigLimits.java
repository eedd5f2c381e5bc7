package dev.convbert.core.config;

import java.util.List;

/** What a {@link ConvBertConfig} may hold: the geometry HF's ConvBERT can build, and bounds far beyond any real one. */
final class ConfigLimits {
    private ConfigLimits() {
    }

    static void validate(int vocab, int hidden, int layers, int heads, int inter, String act, int maxPos,
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

    static void validateRanges(double hiddenDropout, double attentionDropout, Double classifierDropout,
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
}
