package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** HF {@code nn.Embedding}: a plain row lookup (padding_idx only matters at initialisation). */
final class EmbeddingTable extends HfBlock {
    private final Parameter weight;

    EmbeddingTable(long rows, long dim) {
        weight = param("weight", Init.NORMAL, rows, dim);
    }

    Parameter weight() {
        return weight;
    }

    NDArray apply(ParameterStore ps, NDArray ids, boolean training) {
        return ids.getNDArrayInternal().embedding(ids, value(ps, weight, ids, training), SparseFormat.DENSE).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
}
