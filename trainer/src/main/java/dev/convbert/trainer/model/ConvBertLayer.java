package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convbert.core.config.ConvBertConfig;

/**
 * One ConvBERT layer (HF {@code ConvBertLayer}): mixed attention with its residual output, then the feed-forward
 * ({@code intermediate.dense} + exact erf GELU, {@code output.dense} + residual + LayerNorm).
 */
final class ConvBertLayer extends HfBlock {
    private final Attention attention;
    private final Intermediate intermediate;
    private final ResidualOutput output;

    ConvBertLayer(ConvBertConfig c) {
        attention = addChildBlock("attention", new Attention(c));
        intermediate = addChildBlock("intermediate", new Intermediate(c));
        output = addChildBlock("output", new ResidualOutput(c.intermediateSize(), c.hiddenSize(), c.numGroups(),
                c.layerNormEps(), c.hiddenDropoutProb()));
    }

    /** inputs: x [B, L, Hd], additive mask, real-token mask → [B, L, Hd]. */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray a = attention.forward(ps, inputs, training).singletonOrThrow();
        NDArray h = intermediate.forward(ps, new NDList(a), training).singletonOrThrow();
        return output.forward(ps, new NDList(h, a), training);
    }

    /** HF {@code ConvBertAttention}: {@code self} (mixed attention) and {@code output}. */
    static final class Attention extends HfBlock {
        private final MixedAttention self;
        private final ResidualOutput output;

        Attention(ConvBertConfig c) {
            self = addChildBlock("self", new MixedAttention(c));
            output = addChildBlock("output", new ResidualOutput(c.hiddenSize(), c.hiddenSize(), 1, c.layerNormEps(),
                    c.hiddenDropoutProb()));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray mixed = self.forward(ps, inputs, training).singletonOrThrow();
            return output.forward(ps, new NDList(mixed, inputs.get(0)), training);
        }
    }

    /** HF {@code ConvBertIntermediate}: dense (grouped when num_groups &gt; 1) + GELU. */
    static final class Intermediate extends HfBlock {
        private final HfBlock dense;

        Intermediate(ConvBertConfig c) {
            dense = addChildBlock("dense", c.numGroups() > 1
                    ? new GroupedLinear(c.hiddenSize(), c.intermediateSize(), c.numGroups())
                    : new LinearLayer(c.hiddenSize(), c.intermediateSize()));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            return new NDList(Activation.gelu(dense.forward(ps, inputs, training).singletonOrThrow()));
        }
    }
}
