package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convbert.core.config.ConvBertConfig;

/**
 * Embeddings (HF {@code ConvBertEmbeddings}): word + position + token type, LayerNorm, dropout — all of width
 * embedding_size. Position ids are always 0..L-1, independent of padding.
 */
final class ConvBertEmbeddings extends HfBlock {
    private final EmbeddingTable wordEmbeddings;
    private final EmbeddingTable positionEmbeddings;
    private final EmbeddingTable tokenTypeEmbeddings;
    private final LayerNormLayer layerNorm;
    private final float dropout;
    private final int maxPositions;

    ConvBertEmbeddings(ConvBertConfig c) {
        wordEmbeddings = addChildBlock("word_embeddings", new EmbeddingTable(c.vocabSize(), c.embeddingSize()));
        positionEmbeddings = addChildBlock("position_embeddings", new EmbeddingTable(c.maxPositionEmbeddings(), c.embeddingSize()));
        tokenTypeEmbeddings = addChildBlock("token_type_embeddings", new EmbeddingTable(c.typeVocabSize(), c.embeddingSize()));
        // "LayerNorm" is HF's spelling, and so the file format's
        layerNorm = addChildBlock("LayerNorm", new LayerNormLayer(c.embeddingSize(), c.layerNormEps()));
        dropout = (float) c.hiddenDropoutProb();
        maxPositions = c.maxPositionEmbeddings();
    }

    EmbeddingTable wordEmbeddings() {
        return wordEmbeddings;
    }

    /** inputs: input_ids [B, L], token_type_ids [B, L] (int64) → [B, L, E]. */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray types = inputs.get(1);
        long len = ids.getShape().get(1);
        if (len > maxPositions) {
            throw new dev.convbert.core.InvalidInputException("sequence length " + len + " exceeds max_position_embeddings (" + maxPositions + ")");
        }
        NDArray positions = ids.getManager().arange(0, (int) len, 1, DataType.INT64, ids.getDevice()).expandDims(0);
        NDArray e = wordEmbeddings.apply(ps, ids, training)
                .add(positionEmbeddings.apply(ps, positions, training))
                .add(tokenTypeEmbeddings.apply(ps, types, training));
        e = layerNorm.apply(ps, e, training);
        return new NDList(Dropout.dropout(e, dropout, training).singletonOrThrow());
    }
}
