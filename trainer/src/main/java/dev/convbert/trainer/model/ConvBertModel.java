package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convbert.core.config.ConvBertConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The ConvBERT encoder (HF {@code ConvBertModel}): embeddings, {@code embeddings_project} when embedding_size ≠
 * hidden_size (no dropout or LayerNorm after it), then num_hidden_layers {@link ConvBertLayer}s. No pooler, no final
 * LayerNorm: {@code last_hidden_state} is the last layer's output.
 *
 * <p>Forward inputs: input_ids, token_type_ids, attention_mask, all int64 [B, L]; output: [B, L, Hd]. The attention
 * mask enters self-attention as {@code (1 - m) · finfo(float32).min} on keys, exactly as HF adds it.
 */
public final class ConvBertModel extends HfBlock {
    private final ConvBertConfig config;
    private final ConvBertEmbeddings embeddings;
    private final LinearLayer embeddingsProject;
    private final List<ConvBertLayer> layers = new ArrayList<>();

    public ConvBertModel(ConvBertConfig config) {
        this(checked(config), new ConvBertEmbeddings(config));
    }

    /** A config too large for this JVM is refused before a single block or array exists. */
    private static ConvBertConfig checked(ConvBertConfig config) {
        config.requireFitsInHeap("building the model");
        return config;
    }

    /**
     * An encoder whose embeddings block is {@code shared} (ELECTRA's generator shares the discriminator's word,
     * position and token-type embeddings and their LayerNorm; its own {@code embeddings_project} maps them to its width).
     */
    ConvBertModel(ConvBertConfig config, ConvBertEmbeddings shared) {
        config.requireFitsInHeap("building the model");
        this.config = config;
        embeddings = addChildBlock("embeddings", shared);
        embeddingsProject = config.embeddingSize() != config.hiddenSize()
                ? addChildBlock("embeddings_project", new LinearLayer(config.embeddingSize(), config.hiddenSize()))
                : null;
        Encoder encoder = addChildBlock("encoder", new Encoder());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(encoder.add(i, new ConvBertLayer(config)));
        }
    }

    public ConvBertConfig config() {
        return config;
    }

    ConvBertEmbeddings embeddings() {
        return embeddings;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(encode(ps, inputs, training, null));
    }

    /**
     * Runs the encoder; when {@code hiddenStates} is given it receives the encoder input and each layer's output
     * (HF's {@code hidden_states}, layers + 1 entries).
     */
    public NDArray encode(ParameterStore ps, NDList inputs, boolean training, List<NDArray> hiddenStates) {
        NDArray ids = inputs.get(0);
        NDArray types = inputs.get(1);
        long b = ids.getShape().get(0);
        long len = ids.getShape().get(1);

        NDArray x = embeddings.forward(ps, new NDList(ids, types), training).singletonOrThrow();
        if (embeddingsProject != null) {
            x = embeddingsProject.apply(ps, x, training);
        }
        // the masks take the activations' type (fp16 when training in mixed precision): an fp32 mask would promote the
        // scores to fp32, and the next matMul with fp16 weights refuses mixed types
        DataType compute = x.getDataType();
        NDArray mask = inputs.get(2).toType(compute, false);                            // [B, L]
        double lowest = compute == DataType.FLOAT16 ? -65504.0 : -Float.MAX_VALUE;      // the type's most negative value
        NDArray additive = mask.neg().add(1f).mul(Scalars.like(mask, lowest)).reshape(b, 1, 1, len); // [B, 1, 1, L]
        NDArray realTokens = mask.expandDims(2);                                       // [B, L, 1]
        if (hiddenStates != null) {
            hiddenStates.add(x);
        }
        for (ConvBertLayer layer : layers) {
            if (training) {
                x = layer.forward(ps, new NDList(x, additive, realTokens), training).singletonOrThrow();
            } else {
                // inference frees each layer's intermediates when it returns, as eager PyTorch does; DJL would keep every
                // intermediate of the forward until the caller's manager closes (the benchmark's DJL worker was killed
                // for memory at batch 32 x seq 512 with 24 GiB)
                try (NDScope scope = new NDScope()) {
                    x = layer.forward(ps, new NDList(x, additive, realTokens), false).singletonOrThrow();
                    NDScope.unregister(x);
                }
            }
            if (hiddenStates != null) {
                hiddenStates.add(x);
            }
        }
        return x;
    }

    /** HF's {@code encoder}, whose children are {@code layer.0 … layer.(n-1)}. */
    static final class Encoder extends HfBlock {
        ConvBertLayer add(int index, ConvBertLayer layer) {
            return addChildBlock("layer." + index, layer);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            throw new UnsupportedOperationException("the encoder runs inside ConvBertModel.encode");
        }
    }
}
