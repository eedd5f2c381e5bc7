package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Base of every ConvBERT block: parameters carry their HuggingFace name, shape and HF initialisation rule, so the
 * block tree yields exactly the names of {@code modeling_convbert.py} (see {@link ConvBertWeights}).
 *
 * <p>Arrays are set once, from a checkpoint or from the initialiser, by {@link ConvBertWeights}; DJL's own shape
 * inference and {@code initialize} are not used because every shape is known from the config.
 */
abstract class HfBlock extends AbstractBlock {

    /** How HF initialises a parameter ({@code ConvBertPreTrainedModel._init_weights}). */
    enum Init { NORMAL, ZEROS, ONES }

    /** A parameter with its HF-relative name, shape and initialiser. */
    record Spec(Parameter parameter, Shape shape, Init init) {}

    private final List<Spec> specs = new ArrayList<>();

    /** Declares a parameter named as in HF (may contain dots, e.g. {@code depthwise.weight}). */
    protected final Parameter param(String name, Init init, long... shape) {
        Parameter p = addParameter(Parameter.builder().setName(name).setType(Parameter.Type.OTHER).build());
        specs.add(new Spec(p, new Shape(shape), init));
        return p;
    }

    List<Spec> specs() {
        return Collections.unmodifiableList(specs);
    }

    protected static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
        return ps.getValue(p, like.getDevice(), training);
    }

    /** Initialised once every array is set; DJL's own test also wants recorded input shapes, which we never use. */
    @Override
    public boolean isInitialized() {
        return getParameters().values().stream().allMatch(Parameter::isInitialized);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " output shapes follow the config; run forward instead of shape inference");
    }
}
