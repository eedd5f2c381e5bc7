package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convbert.core.config.ConvBertConfig;

/**
 * ELECTRA-style replaced-token detection as ConvBERT pre-trains (docs/RECIPE.md §c): a small generator (masked-LM)
 * and the discriminator, sharing the token, position and token-type embeddings (and their LayerNorm).
 *
 * <p>Children: {@code discriminator} (the encoder that is kept), {@code discriminator_predictions} (dense + GELU,
 * {@code dense_prediction} to one logit per token), {@code generator} (encoder over the shared embeddings with its own
 * {@code embeddings_project}), {@code generator_predictions} (dense to embedding_size, GELU, LayerNorm) and the
 * output bias {@code generator_lm_head.bias}; the MLM logits are tied to the word embeddings.
 */
public final class ElectraPretraining extends HfBlock {
    private final ConvBertModel discriminator;
    private final ConvBertModel generator;
    private final LinearLayer discDense;
    private final LinearLayer discPrediction;
    private final LinearLayer genDense;
    private final LayerNormLayer genLayerNorm;
    private final Parameter lmBias;

    public ElectraPretraining(ConvBertConfig discConfig, ConvBertConfig genConfig) {
        ConvBertEmbeddings shared = new ConvBertEmbeddings(discConfig);
        discriminator = addChildBlock("discriminator", new ConvBertModel(discConfig, shared));
        Head disc = addChildBlock("discriminator_predictions", new Head());
        discDense = disc.add("dense", new LinearLayer(discConfig.hiddenSize(), discConfig.hiddenSize()));
        discPrediction = disc.add("dense_prediction", new LinearLayer(discConfig.hiddenSize(), 1));
        generator = addChildBlock("generator", new ConvBertModel(genConfig, shared));
        Head gen = addChildBlock("generator_predictions", new Head());
        genDense = gen.add("dense", new LinearLayer(genConfig.hiddenSize(), discConfig.embeddingSize()));
        genLayerNorm = gen.add("LayerNorm", new LayerNormLayer(discConfig.embeddingSize(), discConfig.layerNormEps()));
        lmBias = param("generator_lm_head.bias", Init.ZEROS, discConfig.vocabSize());
    }

    public ConvBertModel discriminator() {
        return discriminator;
    }

    public ConvBertModel generator() {
        return generator;
    }

    /** Generator MLM logits at the gathered positions: hidden [B, N, gen_hidden] → [B, N, V], tied to word embeddings. */
    public NDArray mlmLogits(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray h = Activation.gelu(genDense.apply(ps, hidden, training));
        h = genLayerNorm.apply(ps, h, training);                                      // [B, N, E]
        NDArray words = value(ps, discriminator.embeddings().wordEmbeddings().weight(), h, training);   // [V, E]
        return h.matMul(words.transpose()).add(value(ps, lmBias, h, training));       // [B, N, V]
    }

    /** One replaced-token logit per position: [B, L, Hd] → [B, L]. */
    public NDArray discriminatorLogits(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray h = Activation.gelu(discDense.apply(ps, hidden, training));
        return discPrediction.apply(ps, h, training).squeeze(2);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException("the pre-training step calls the generator and discriminator separately");
    }

    /** A container for named head layers (HF's prediction modules). */
    static final class Head extends HfBlock {
        <B extends HfBlock> B add(String name, B block) {
            return addChildBlock(name, block);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            throw new UnsupportedOperationException("called through ElectraPretraining");
        }
    }
}
