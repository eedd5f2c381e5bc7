package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** HF {@code nn.Linear}: {@code y = x Wᵀ + b}, weight [out, in]. */
final class LinearLayer extends HfBlock {
    private final Parameter weight;
    private final Parameter bias;

    LinearLayer(long in, long out) {
        weight = param("weight", Init.NORMAL, out, in);
        bias = param("bias", Init.ZEROS, out);
    }

    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        return Linear.linear(x, value(ps, weight, x, training), value(ps, bias, x, training)).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
}
