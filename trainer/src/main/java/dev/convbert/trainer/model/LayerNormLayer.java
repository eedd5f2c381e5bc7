package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** HF {@code nn.LayerNorm} over the last axis (biased variance, eps inside the square root). */
final class LayerNormLayer extends HfBlock {
    private final Parameter weight;
    private final Parameter bias;
    private final long size;
    private final float eps;

    LayerNormLayer(long size, double eps) {
        this.size = size;
        this.eps = (float) eps;
        weight = param("weight", Init.ONES, size);
        bias = param("bias", Init.ZEROS, size);
    }

    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        return LayerNorm.layerNorm(x, new Shape(size), value(ps, weight, x, training), value(ps, bias, x, training), eps)
                .singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
}
