package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A ConvBERT block in DJL with its weights in native memory — a task model or an encoder — and the model directory it
 * came from, opened once (null when initialised here): the one owner of the {@link NDManager} holding its parameters
 * (close it when done; closing twice is harmless).
 */
abstract sealed class LoadedModel implements Predictor permits TaskModel, EncoderModel {
    final NDManager manager;
    final Device device;
    final ParameterStore parameters;
    /** Where the weights came from; null for a model initialised in this process. */
    private final ModelDir source;
    private boolean closed;

    LoadedModel(ModelDir source, NDManager manager, Device device) {
        this.source = source;
        this.manager = manager;
        this.device = device;
        this.parameters = new ParameterStore(manager, false);
    }

    /**
     * The block {@code build} makes for {@code md}'s config, with {@code md}'s weights loaded (every tensor present and
     * well shaped), wrapped by {@code wrap}; the manager is closed when anything fails.
     */
    static <B extends Block, M extends LoadedModel> M load(ModelDir md, Device device, Function<ConvBertConfig, B> build,
                                                           BiFunction<NDManager, B, M> wrap) {
        NDManager manager = NDManager.newBaseManager(device);
        try {
            B block = build.apply(md.config());
            ConvBertWeights.load(block, md.config(), md.weights(), md.weightsFile(), manager, false, 0);
            return wrap.apply(manager, block);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The directory the weights came from, if any. */
    Optional<ModelDir> source() {
        return Optional.ofNullable(source);
    }

    @Override
    public Optional<Path> vocab() {
        return source != null && source.hasVocab() ? Optional.of(source.dir().resolve(ModelDir.VOCAB)) : Optional.empty();
    }

    @Override
    public Optional<String> vocabSha256() {
        return source == null ? Optional.empty() : source.vocabSha256();
    }

    /** The max_seq_length in the directory's training_metrics.json (a fine-tuned model); empty otherwise. */
    @Override
    public Optional<Integer> trainedMaxLength() {
        return ModelDir.trainedMaxLength(source == null ? null : source.trainingMetrics());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
