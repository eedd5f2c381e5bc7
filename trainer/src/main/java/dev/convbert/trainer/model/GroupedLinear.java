package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The grouped feed-forward dense of medium-small (num_groups G &gt; 1): the features split into G contiguous blocks,
 * each with its own [in/G, out/G] weight (TF GDense layout, NOT transposed), bias over the full width.
 */
final class GroupedLinear extends HfBlock {
    private final int groups;
    private final long in;
    private final long out;
    private final Parameter weight;
    private final Parameter bias;

    GroupedLinear(long in, long out, int groups) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("grouped linear " + in + "→" + out + " is not divisible by num_groups (" + groups + ")");
        }
        this.groups = groups;
        this.in = in;
        this.out = out;
        weight = param("weight", Init.NORMAL, groups, in / groups, out / groups);
        bias = param("bias", Init.ZEROS, out);
    }

    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        long[] lead = x.getShape().slice(0, x.getShape().dimension() - 1).getShape();
        NDArray w = value(ps, weight, x, training);
        NDArray y = x.reshape(-1, groups, in / groups)   // [N, G, in/G]
                .transpose(1, 0, 2)                      // [G, N, in/G]
                .matMul(w)                               // [G, N, out/G]
                .transpose(1, 0, 2);                     // [N, G, out/G]
        long[] shape = java.util.Arrays.copyOf(lead, lead.length + 1);
        shape[lead.length] = out;
        return y.reshape(shape).add(value(ps, bias, x, training));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
}
