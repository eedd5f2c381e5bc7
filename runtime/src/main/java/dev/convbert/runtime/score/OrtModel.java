package dev.convbert.runtime.score;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * An exported ConvBERT in an ONNX Runtime session: the model's config, labels and training-time dev metric come from
 * its metadata. Thread-safe ({@code OrtSession.run} is); closing it frees the session, closing twice is harmless.
 */
public final class OrtModel implements Predictor {
    private final Path file;
    private final OrtSession session;
    private final ConvBertConfig config;
    private final Map<String, String> metadata;
    private final String provider;
    private volatile boolean closed;

    private OrtModel(Path file, OrtSession session, ConvBertConfig config, Map<String, String> metadata, String provider) {
        this.file = file;
        this.session = session;
        this.config = config;
        this.metadata = metadata;
        this.provider = provider;
    }

    /** Opens {@code file} with all graph optimisations on {@code provider}. */
    public static OrtModel open(Path file, ExecutionProvider provider) {
        return open(file, provider, null, false);
    }

    /**
     * As {@link #open(Path, ExecutionProvider)}; {@code optimizedModel}, when given, receives ORT's optimised graph;
     * tensors stored outside the file are refused unless {@code allowExternalData}, and then only inside its directory.
     */
    public static OrtModel open(Path file, ExecutionProvider provider, Path optimizedModel, boolean allowExternalData) {
        if (!Files.isRegularFile(file)) {
            throw new ScoringException(file + ": no such file; expected an .onnx written by 'convbert export'");
        }
        ExternalData.check(file, allowExternalData);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // ORT defaults to one thread per *physical* core, which on small VMs is half of what PyTorch uses;
            // CONVBERT_ORT_THREADS overrides
            so.setIntraOpNumThreads(threads());
            if (optimizedModel != null) {
                so.setOptimizedModelFilePath(optimizedModel.toString());
            }
            String used = provider.configure(so);
            OrtSession session = env.createSession(file.toString(), so);
            try {
                Map<String, String> meta = session.getMetadata().getCustomMetadata();
                String cfg = meta.get("convbert.config");
                if (cfg == null) {
                    throw new ScoringException(file + ": no convbert.config in the model metadata; export it with 'convbert export'");
                }
                ConvBertConfig config = ConvBertConfig.fromJson((ObjectNode) new ObjectMapper().readTree(cfg));
                return new OrtModel(file, session, config, meta, used);
            } catch (IOException | RuntimeException e) {
                session.close();
                throw e instanceof ScoringException s ? s : new ScoringException(file + ": bad metadata: " + e.getMessage(), e);
            }
        } catch (OrtException e) {
            throw new ScoringException(file + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
    }

    static int threads() {
        String env = System.getenv("CONVBERT_ORT_THREADS");
        return env != null ? Integer.parseInt(env) : Runtime.getRuntime().availableProcessors();
    }

    @Override
    public ConvBertConfig config() {
        return config;
    }

    /** The provider in use, e.g. "cpu" or "cuda:0". */
    public String provider() {
        return provider;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Path file() {
        return file;
    }

    @Override
    public Optional<Path> vocab() {
        Path v = file.toAbsolutePath().resolveSibling(ModelDir.VOCAB);
        return Files.isRegularFile(v) ? Optional.of(v) : Optional.empty();
    }

    @Override
    public boolean hasClassificationHead() {
        return session.getOutputNames().contains("logits");
    }

    @Override
    public Output run(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask, boolean hiddenStates) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        if ((hiddenStates || !hasClassificationHead()) && !session.getOutputNames().contains("last_hidden_state")) {
            throw new ScoringException(file + ": exported without last_hidden_state; re-export with --hidden-states");
        }
        try (OnnxTensor ids = OnnxTensor.createTensor(env, inputIds);
             OnnxTensor mask = OnnxTensor.createTensor(env, attentionMask);
             OnnxTensor types = OnnxTensor.createTensor(env, tokenTypeIds);
             OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            boolean head = hasClassificationHead();
            float[][] logits = head ? (float[][]) r.get("logits").orElseThrow().getValue() : null;
            float[][][] hidden = hiddenStates || !head ? (float[][][]) r.get("last_hidden_state").orElseThrow().getValue() : null;
            return new Output(logits, hidden);
        } catch (OrtException e) {
            throw new IllegalStateException(file + ": ONNX Runtime failed on a batch of " + inputIds.length + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                session.close();
            } catch (OrtException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
