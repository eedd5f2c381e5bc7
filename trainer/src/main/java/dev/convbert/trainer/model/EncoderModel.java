package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An encoder without a task head ({@code ConvBertModel}: a pre-trained discriminator, a converted TF or hub encoder)
 * ready to run: it yields last_hidden_state, never logits. The one owner of the {@link NDManager} that holds its weights.
 */
public final class EncoderModel implements Predictor {
    private final NDManager manager;
    private final Path dir;
    private final ConvBertModel model;
    private final ParameterStore parameters;
    private final Device device;
    private boolean closed;

    private EncoderModel(Path dir, NDManager manager, ConvBertModel model, Device device) {
        this.dir = dir;
        this.manager = manager;
        this.model = model;
        this.device = device;
        this.parameters = new ParameterStore(manager, false);
    }

    /** Loads an encoder model directory onto {@code device}; every encoder tensor must be present and well shaped. */
    public static EncoderModel load(Path dir, Device device) {
        ModelDir md = ModelDir.open(dir);
        NDManager manager = NDManager.newBaseManager(device);
        try {
            var model = new ConvBertModel(md.config());
            ConvBertWeights.load(model, md.config(), md.weights(), md.weightsFile(), manager, false, 0);
            return new EncoderModel(dir, manager, model, device);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public ConvBertConfig config() {
        return model.config();
    }

    @Override
    public boolean hasClassificationHead() {
        return false;
    }

    @Override
    public Optional<Path> vocab() {
        return Optional.of(dir.resolve(ModelDir.VOCAB)).filter(Files::isRegularFile);
    }

    @Override
    public Optional<String> vocabSha256() {
        return ModelDir.open(dir).vocabSha256();
    }

    /** last_hidden_state for the batch, exactly as given; {@code hiddenStates} is implied. */
    @Override
    public Output run(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask, boolean hiddenStates) {
        try (NDManager step = manager.newSubManager(device)) {
            NDList inputs = new NDList(TaskModel.matrix(step, inputIds), TaskModel.matrix(step, tokenTypeIds),
                    TaskModel.matrix(step, attentionMask));
            return new Output(null, TaskModel.sequences(model.encode(parameters, inputs, false, null)));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
