package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * {@code LayerNorm(dropout(dense(h)) + residual)}: HF's {@code ConvBertSelfOutput} (attention.output) and
 * {@code ConvBertOutput} (output), post-LN. The dense is grouped in the feed-forward when num_groups &gt; 1.
 */
final class ResidualOutput extends HfBlock {
    private final HfBlock dense;
    private final LayerNormLayer layerNorm;
    private final float dropout;

    ResidualOutput(long in, long out, int groups, double eps, double dropout) {
        dense = addChildBlock("dense", groups > 1 ? new GroupedLinear(in, out, groups) : new LinearLayer(in, out));
        layerNorm = addChildBlock("LayerNorm", new LayerNormLayer(out, eps));
        this.dropout = (float) dropout;
    }

    /** inputs: h, residual. */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = dense.forward(ps, new NDList(inputs.get(0)), training).singletonOrThrow();
        h = Dropout.dropout(h, dropout, training).singletonOrThrow();
        return new NDList(layerNorm.apply(ps, h.add(inputs.get(1)), training));
    }
}
