package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.predict.PaddedBatch;
import ai.djl.training.ParameterStore;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.trainer.optim.GradientClipping;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sequence-classification model with its weights in native memory, ready to run: the one owner of the
 * {@link NDManager} that holds the parameters (close it when done; closing twice is harmless).
 */
public final class TaskModel extends LoadedModel {
    private final ConvBertForSequenceClassification model;
    private boolean trainable;
    /** fp16 training: the working copy the forward and backward run on; its parameters are the graph's leaves. */
    private ConvBertForSequenceClassification half;
    /** The working copy's arrays, in {@link #namedParameters()} order. */
    private List<NDArray> halfArrays;

    private TaskModel(ModelDir source, NDManager manager, ConvBertForSequenceClassification model, Device device) {
        super(source, manager, device);
        this.model = model;
    }

    /** Loads a model directory (HF layout) onto {@code device}. */
    public static TaskModel load(Path dir, Device device) {
        ModelDir md = ModelDir.open(dir);
        return load(md, device, ConvBertForSequenceClassification::new,
                (manager, model) -> new TaskModel(md, manager, model, device));
    }

    /**
     * A model directory as the start of fine-tuning on {@code labels} with {@code head}: the encoder loads; a task head
     * that is absent, sized for other labels or of the other kind is initialised afresh (and reported), other heads
     * are dropped.
     */
    public static TaskModel fromPretrained(ModelDir md, List<String> labels, ClassifierHead head, Device device, long seed) {
        ConvBertConfig config = md.config().withLabels(labels).withClassifierHead(head);
        Safetensors.Contents weights = md.weights();
        if (md.config().classifierHead() != head) {
            // an out_proj trained on the other head's features would load by shape but mean nothing here
            Map<String, SafeTensor> encoder = new LinkedHashMap<>(weights.tensors());
            encoder.keySet().removeIf(name -> name.startsWith("classifier."));
            weights = new Safetensors.Contents(encoder, weights.metadata());
        }
        NDManager manager = NDManager.newBaseManager(device);
        try {
            var model = new ConvBertForSequenceClassification(config);
            var report = ConvBertWeights.load(model, config, weights, md.weightsFile(), manager, true, seed);
            if (!report.initialised().isEmpty()) {
                System.err.println("initialised " + report.initialised().size() + " task-head tensors not in "
                        + md.weightsFile() + ": " + report.initialised());
            }
            return new TaskModel(md, manager, model, device);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** A freshly initialised model (HF initialisation, deterministic in {@code seed}). */
    public static TaskModel initialise(ConvBertConfig config, Device device, long seed) {
        NDManager manager = NDManager.newBaseManager(device);
        var model = new ConvBertForSequenceClassification(config);
        ConvBertWeights.initialize(model, config, manager, seed);
        return new TaskModel(null, manager, model, device);
    }

    @Override
    public ConvBertConfig config() {
        return model.config();
    }

    @Override
    public boolean hasClassificationHead() {
        return true;
    }

    // the block, its manager and parameter store stay inside this package: callers train and run through the methods
    // below, so no one else creates arrays on the model's manager or runs the block with the wrong mode
    ConvBertForSequenceClassification block() {
        return model;
    }

    NDManager manager() {
        return manager;
    }

    ParameterStore parameterStore() {
        return parameters;
    }

    /** The parameters by HF name, in forward order: what an optimizer updates. */
    public Map<String, ConvBertWeights.Named> namedParameters() {
        return ConvBertWeights.named(model);
    }

    /** Arrays alive in the model's manager: the parameters, their gradients and optimizer moments; constant in training. */
    public int nativeArrays() {
        return manager.getManagedArrays().size();
    }

    /**
     * Trains in mixed precision from now on: an fp16 copy of every parameter becomes the model the training forward and
     * backward run on, while the parameters of this model stay fp32 — the masters the optimizer updates, the weights
     * that are evaluated and saved. Every parameter is copied, LayerNorm's included: PyTorch's fp16 LayerNorm keeps its
     * mean and variance in fp32, and the tracking test shows no gain from fp32 gamma/beta.
     */
    public void trainInHalfPrecision() {
        if (half != null) {
            return;
        }
        half = new ConvBertForSequenceClassification(config());
        Map<String, ConvBertWeights.Named> copies = ConvBertWeights.named(half);
        halfArrays = new ArrayList<>();
        for (var n : namedParameters().values()) {
            NDArray h = n.parameter().getArray().toType(DataType.FLOAT16, false);
            h.setRequiresGradient(true);
            copies.get(n.name()).parameter().setArray(h);
            halfArrays.add(h);
        }
    }

    /** After an update of the fp32 masters: the fp16 copy takes their new values (rounded; outside autograd). */
    public void refreshHalfCopy() {
        if (half == null) {
            return;
        }
        int i = 0;
        for (var n : namedParameters().values()) {
            // an indexed put stays on the device; copyTo would go through a host buffer (DJL's NDArray.set(Buffer))
            try (NDArray rounded = n.parameter().getArray().toType(DataType.FLOAT16, false)) {
                halfArrays.get(i++).set(new NDIndex("..."), rounded);
            }
        }
    }

    /**
     * One training forward pass (dropout on) and its backward, of the loss times {@code lossScale}: gradients
     * accumulate on the parameters (on the fp16 copy in mixed precision). Returns the unscaled loss.
     * Classification: cross-entropy. Regression: squared error against the label — scaled by the head's
     * {@link ClassifierHead#regressionScale()}, so the ELECTRA head trains on label / 5 as the original does.
     */
    public double forwardBackward(PaddedBatch batch, float[] labels, double lossScale) {
        if (!trainable && half == null) {
            namedParameters().values().forEach(n -> n.parameter().getArray().setRequiresGradient(true));
            trainable = true;
        }
        int b = labels.length;
        ConvBertConfig c = config();
        try (NDManager step = manager.newSubManager(device)) {
            NDList in = new NDList(matrix(step, batch.inputIds()), matrix(step, batch.tokenTypeIds()),
                    matrix(step, batch.attentionMask()));
            NDArray y = step.create(labels);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = (half != null ? half : model).run(parameters, in, true, null).get(0);
                if (half != null) {
                    // the loss is taken in fp32: an fp16 logit plus an fp32 zero promotes to fp32 and, unlike a cast,
                    // keeps autograd's path back into the fp16 graph
                    logits = logits.add(step.zeros(new Shape(c.numLabels()), DataType.FLOAT32));
                }
                NDArray loss;
                if (c.isRegression()) {
                    NDArray error = logits.reshape(b).sub(y);
                    double scale = c.classifierHead().regressionScale();
                    loss = (scale == 1 ? error : error.div(Scalars.like(error, scale))).square().mean();
                } else {
                    NDArray gold = y.toType(DataType.INT64, false).oneHot(c.numLabels());
                    loss = logits.logSoftmax(1).mul(gold).sum(new int[]{1}).neg().mean();
                }
                // an array of this step's manager, not a Number: autograd keeps the factor for the backward pass
                gc.backward(lossScale == 1 ? loss : loss.mul(step.create(new float[]{(float) lossScale})));
                return loss.getFloat();
            }
        }
    }

    /**
     * The gradients in {@link #namedParameters()} order as fp32, divided by {@code lossScale}. In fp32 they are the
     * parameters' own gradient arrays; in mixed precision new fp32 arrays made from the fp16 copy's gradients.
     */
    public List<NDArray> gradients(double lossScale) {
        List<NDArray> grads = new ArrayList<>();
        if (half == null) {
            for (var n : namedParameters().values()) {
                NDArray g = n.parameter().getArray().getGradient();
                grads.add(lossScale == 1 ? g : g.divi(lossScale));
            }
            return grads;
        }
        for (NDArray h : halfArrays) {
            try (NDArray g = h.getGradient()) {
                NDArray f = g.toType(DataType.FLOAT32, false);
                grads.add(lossScale == 1 ? f : f.divi(lossScale));
            }
        }
        return grads;
    }

    /** Clears the fp16 copy's gradients for the next step (the fp32 path clears the arrays {@link #gradients} gave). */
    public void clearHalfGradients(double norm) {
        if (half == null) {
            return;
        }
        for (NDArray h : halfArrays) {
            try (NDArray g = h.getGradient()) {
                GradientClipping.zero(g, norm);
            }
        }
    }

    public Device device() {
        return device;
    }

    /** Runs one batch in inference mode, exactly as given; outputs are copied to the heap. */
    @Override
    public Output run(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask, boolean hiddenStates) {
        try (NDManager step = manager.newSubManager(device)) {
            NDList inputs = new NDList(matrix(step, inputIds), matrix(step, tokenTypeIds), matrix(step, attentionMask));
            NDList out = model.run(parameters, inputs, false, null);
            int b = inputIds.length;
            float[][] logits = rows(out.get(0).toFloatArray(), b);
            return new Output(logits, hiddenStates ? sequences(out.get(1)) : null);
        }
    }

    public List<SafeTensor> weights() {
        return ConvBertWeights.toSafeTensors(model);
    }

    /** Writes this model as a model directory (HF layout). */
    public ModelDir save(Path dir, Path vocab) {
        return ModelDir.write(dir, config(), weights(), vocab, Map.of("format", "pt"));
    }

    /** A rectangular int64 batch [rows, length] in {@code m}. */
    public static NDArray matrix(NDManager m, long[][] rows) {
        int b = rows.length;
        int len = rows[0].length;
        long[] flat = new long[b * len];
        for (int i = 0; i < b; i++) {
            if (rows[i].length != len) {
                throw new IllegalArgumentException("row " + i + " has length " + rows[i].length + ", expected " + len
                        + "; a batch must be rectangular");
            }
            System.arraycopy(rows[i], 0, flat, i * len, len);
        }
        return m.create(flat, new Shape(b, len));
    }

    /** A [B, L, Hd] array on the heap. */
    static float[][][] sequences(NDArray h) {
        int b = (int) h.getShape().get(0);
        int len = (int) h.getShape().get(1);
        float[][] flat = rows(h.toFloatArray(), b * len);
        float[][][] out = new float[b][][];
        for (int i = 0; i < b; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * len, (i + 1) * len);
        }
        return out;
    }

    private static float[][] rows(float[] flat, int n) {
        int width = flat.length / n;
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return out;
    }
}
