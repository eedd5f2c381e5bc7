package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.safetensors.SafeTensor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A sequence-classification model with its weights in native memory, ready to run: the one owner of the
 * {@link NDManager} that holds the parameters (close it when done; closing twice is harmless).
 */
public final class TaskModel implements Predictor {
    private final NDManager manager;
    private final Path dir;
    private final ConvBertForSequenceClassification model;
    private final ParameterStore parameters;
    private final Device device;
    private boolean closed;

    private TaskModel(Path dir, NDManager manager, ConvBertForSequenceClassification model, Device device) {
        this.dir = dir;
        this.manager = manager;
        this.model = model;
        this.device = device;
        this.parameters = new ParameterStore(manager, false);
    }

    /** Loads a model directory (HF layout) onto {@code device}. */
    public static TaskModel load(Path dir, Device device) {
        ModelDir md = ModelDir.open(dir);
        NDManager manager = NDManager.newBaseManager(device);
        try {
            var model = new ConvBertForSequenceClassification(md.config());
            ConvBertWeights.load(model, md.config(), md.weights(), md.weightsFile(), manager, false, 0);
            return new TaskModel(dir, manager, model, device);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A model directory as the start of fine-tuning on {@code labels}: the encoder loads, a task head that is absent
     * or sized for other labels is initialised afresh (and reported), other heads are dropped.
     */
    public static TaskModel fromPretrained(Path dir, java.util.List<String> labels, Device device, long seed) {
        ModelDir md = ModelDir.open(dir);
        ConvBertConfig config = md.config().withLabels(labels);
        NDManager manager = NDManager.newBaseManager(device);
        try {
            var model = new ConvBertForSequenceClassification(config);
            var report = ConvBertWeights.load(model, config, md.weights(), md.weightsFile(), manager, true, seed);
            if (!report.initialised().isEmpty()) {
                System.err.println("initialised " + report.initialised().size() + " task-head tensors not in "
                        + md.weightsFile() + ": " + report.initialised());
            }
            return new TaskModel(dir, manager, model, device);
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

    @Override
    public Optional<Path> vocab() {
        return dir == null ? Optional.empty() : Optional.of(dir.resolve(ModelDir.VOCAB)).filter(java.nio.file.Files::isRegularFile);
    }

    @Override
    public Optional<String> vocabSha256() {
        return dir == null ? Optional.empty() : ModelDir.open(dir).vocabSha256();
    }

    public ConvBertForSequenceClassification block() {
        return model;
    }

    public NDManager manager() {
        return manager;
    }

    public ParameterStore parameterStore() {
        return parameters;
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

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
