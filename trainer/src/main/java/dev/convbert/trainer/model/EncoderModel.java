package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;

import java.nio.file.Path;

/**
 * An encoder without a task head ({@code ConvBertModel}: a pre-trained discriminator, a converted TF or hub encoder)
 * ready to run: it yields last_hidden_state, never logits. The one owner of the {@link NDManager} that holds its weights.
 */
public final class EncoderModel extends LoadedModel {
    private final ConvBertModel model;

    private EncoderModel(ModelDir source, NDManager manager, ConvBertModel model, Device device) {
        super(source, manager, device);
        this.model = model;
    }

    /** Loads an encoder model directory onto {@code device}; every encoder tensor must be present and well shaped. */
    public static EncoderModel load(Path dir, Device device) {
        ModelDir md = ModelDir.open(dir);
        return load(md, device, ConvBertModel::new, (manager, model) -> new EncoderModel(md, manager, model, device));
    }

    @Override
    public ConvBertConfig config() {
        return model.config();
    }

    @Override
    public boolean hasClassificationHead() {
        return false;
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
}
