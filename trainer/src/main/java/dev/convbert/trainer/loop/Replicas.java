package dev.convbert.trainer.loop;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.convbert.trainer.model.ConvBertWeights;
import dev.convbert.trainer.optim.GradientClipping;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Data-parallel training: one copy of the model per device, each running its slice of the batch; their gradients are
 * summed on the first device, the optimizer updates the masters, and the masters' weights go back to every copy.
 *
 * <p>In fp32 the first replica's weights are the masters. In fp16 the masters are an fp32 model of their own on the
 * first device, outside every graph (DJL's {@code toType} cuts autograd, so the fp16 copies are the graph's leaves),
 * and every replica trains an fp16 copy. The caller owns {@code root}; the replicas' managers are its children.
 */
public final class Replicas<M extends Block> {
    /** One device's copy of the model; {@code params} in the order of the masters' parameters. */
    public record Replica<M>(NDManager manager, M model, ParameterStore ps, List<Parameter> params) {}

    private final List<Replica<M>> all;
    private final M masters;
    private final List<Parameter> masterParams;
    /** The replicas that take the masters' weights after each update. */
    private final List<Replica<M>> copies;

    private Replicas(List<Replica<M>> all, M masters, boolean half) {
        this.all = List.copyOf(all);
        this.masters = masters;
        this.masterParams = ConvBertWeights.unique(masters).values().stream().map(ConvBertWeights.Named::parameter).toList();
        this.copies = half ? this.all : this.all.subList(1, this.all.size());
    }

    /**
     * A model per device; {@code initialize} fills the masters (fp16) or each replica (fp32) with the same seeded
     * weights.
     */
    public static <M extends Block> Replicas<M> create(NDManager root, List<Device> devices, boolean half,
                                                       Supplier<M> model, BiConsumer<M, NDManager> initialize) {
        M masters = null;
        if (half) {
            masters = model.get();
            initialize.accept(masters, root);
        }
        List<Replica<M>> all = new ArrayList<>();
        for (Device d : devices) {
            NDManager manager = root.newSubManager(d);
            M m = model.get();
            if (half) {
                var target = ConvBertWeights.unique(m);
                for (var n : ConvBertWeights.unique(masters).values()) {
                    target.get(n.name()).parameter().setArray(halfCopy(n.parameter().getArray(), manager));
                }
            } else {
                initialize.accept(m, manager);
            }
            List<Parameter> params = new ArrayList<>();
            ConvBertWeights.unique(m).values().forEach(n -> params.add(n.parameter()));
            all.add(new Replica<>(manager, m, new ParameterStore(manager, false), params));
        }
        return new Replicas<>(all, half ? masters : all.get(0).model(), half);
    }

    public List<Replica<M>> all() {
        return all;
    }

    public int size() {
        return all.size();
    }

    /** The weights the optimizer updates: the first replica's in fp32, a model of their own in fp16. */
    public M masters() {
        return masters;
    }

    /** After a restore into the masters: every copy takes their weights, and every replica records gradients. */
    public void start() {
        broadcast();
        all.forEach(r -> r.params().forEach(p -> p.getArray().setRequiresGradient(true)));
    }

    /**
     * The replicas' gradients summed on the first device, divided by the loss scale, in the order of the masters'
     * parameters; the caller closes them. fp32: summed into the first replica's own gradients (the caller clears those),
     * the other replicas' stay until {@link #clearGradients}. fp16: new fp32 arrays; every replica's stay.
     */
    public List<NDArray> sumGradients(double lossScale) {
        Replica<M> first = all.get(0);
        List<NDArray> grads = new ArrayList<>(first.params().size());
        for (int i = 0; i < first.params().size(); i++) {
            NDArray g = first.params().get(i).getArray().getGradient();
            if (g.getDataType() != DataType.FLOAT32) {
                try (NDArray half = g) {
                    g = half.toType(DataType.FLOAT32, false);
                }
            }
            for (Replica<M> r : all.subList(1, all.size())) {
                try (NDArray other = r.params().get(i).getArray().getGradient();
                     NDArray here = other.toDevice(g.getDevice(), true);
                     NDArray wide = here.toType(DataType.FLOAT32, true)) {
                    g.addi(wide);
                }
            }
            grads.add(lossScale == 1 ? g : g.divi(lossScale));
        }
        return grads;
    }

    /** Clears the gradients {@link #sumGradients} left on the copies (the loop cleared the arrays it returned). */
    public void clearGradients(double norm) {
        for (Replica<M> r : copies) {
            for (Parameter p : r.params()) {
                try (NDArray g = p.getArray().getGradient()) {
                    GradientClipping.zero(g, norm);
                }
            }
        }
    }

    /** Copies the masters' weights into the copies' parameters, in place, in the copies' type and on their devices. */
    public void broadcast() {
        for (Replica<M> r : copies) {
            for (int i = 0; i < masterParams.size(); i++) {
                NDArray target = r.params().get(i).getArray();
                try (NDArray typed = masterParams.get(i).getArray().toType(target.getDataType(), true);
                     NDArray source = typed.toDevice(target.getDevice(), true)) {
                    target.set(new NDIndex("..."), source);
                }
            }
        }
    }

    /** An fp16 copy of a master's array, owned by a replica's manager (on its device). */
    private static NDArray halfCopy(NDArray master, NDManager manager) {
        try (NDArray half = master.toType(DataType.FLOAT16, true)) {
            NDArray copy = half.toDevice(manager.getDevice(), true);
            copy.attach(manager);
            return copy;
        }
    }
}
