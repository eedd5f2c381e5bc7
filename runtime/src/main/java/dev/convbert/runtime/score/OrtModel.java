package dev.convbert.runtime.score;

import dev.convbert.core.CommandFailedException;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ExportFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An exported ConvBERT in an ONNX Runtime session: the model's config, labels and training-time dev metric come from
 * its metadata. Thread-safe ({@code OrtSession.run} is); closing it frees the session, closing twice is harmless.
 */
public final class OrtModel implements Predictor {
    private final Path file;
    private final OrtSession.SessionOptions options;
    /** Provider options the session options point to; closed after the session, as the options themselves. */
    private final List<AutoCloseable> providerOptions;
    private final OrtSession session;
    private final ConvBertConfig config;
    private final Map<String, String> metadata;
    private final String provider;
    private final NodePlacement.Verdict placement;
    private volatile boolean closed;

    private OrtModel(Path file, OrtSession.SessionOptions options, List<AutoCloseable> providerOptions, OrtSession session,
                     ConvBertConfig config, Map<String, String> metadata, String provider, NodePlacement.Verdict placement) {
        this.file = file;
        this.options = options;
        this.providerOptions = providerOptions;
        this.session = session;
        this.config = config;
        this.metadata = metadata;
        this.provider = provider;
        this.placement = placement;
    }

    /** Opens {@code file} with all graph optimisations on {@code provider}. */
    public static OrtModel open(Path file, ExecutionProvider provider) {
        return open(file, provider, null, false);
    }

    /**
     * As {@link #open(Path, ExecutionProvider)}; {@code optimizedModel}, when given, receives ORT's optimised graph;
     * tensors stored outside the file are refused unless {@code allowExternalData}, and then only inside its directory.
     *
     * <p>On a GPU provider the session runs one small batch under ORT's profiler and is refused when compute nodes
     * landed on the CPU ({@link NodePlacement}); when the provider cannot load or cannot create the session, the CPU is
     * used only with {@link ExecutionProvider#allowFallback()}, and {@link #provider()} says so.
     */
    public static OrtModel open(Path file, ExecutionProvider provider, Path optimizedModel, boolean allowExternalData) {
        return open(file, provider, optimizedModel, allowExternalData, threads());
    }

    /** As {@link #open(Path, ExecutionProvider)} with {@code intraOpThreads} threads (e.g. a Spark executor's cores). */
    public static OrtModel open(Path file, ExecutionProvider provider, int intraOpThreads) {
        return open(file, provider, null, false, intraOpThreads);
    }

    /** As {@link #open(Path, ExecutionProvider, Path, boolean)} with {@code intraOpThreads} threads per run. */
    public static OrtModel open(Path file, ExecutionProvider provider, Path optimizedModel, boolean allowExternalData,
                                int intraOpThreads) {
        if (!Files.isRegularFile(file)) {
            throw new ScoringException(file + ": no such file; expected an .onnx written by 'convbert export'");
        }
        ExternalData.check(file, allowExternalData);
        Path profiles = null;
        try {
            if (!provider.name().equals("cpu")) {
                profiles = Files.createTempDirectory("convbert-placement");
            }
            try {
                return create(file, provider, optimizedModel, profiles, null, intraOpThreads);
            } catch (OrtException e) {
                if (provider.name().equals("cpu")) {
                    throw e;
                }
                String why = "the " + provider.name() + " provider could not create a session: " + e.getMessage();
                if (!provider.allowFallback()) {
                    throw new CommandFailedException(file + ": " + why + "; rerun with --provider cpu, or --allow-fallback to use the CPU");
                }
                return create(file, ExecutionProvider.cpu(), optimizedModel, null, "cpu (fallback: " + why + ")",
                        intraOpThreads);
            }
        } catch (OrtException e) {
            throw new ScoringException(file + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("temporary directory for ORT's profile: " + e.getMessage(), e);
        } finally {
            if (profiles != null) {
                try {
                    dev.convbert.core.io.AtomicFiles.deleteTree(profiles);
                } catch (IOException ignored) {
                    // a leftover profile in the temp directory is harmless
                }
            }
        }
    }

    /** One session; {@code profiles} set means a GPU provider whose placement is checked; {@code label} overrides. */
    private static OrtModel create(Path file, ExecutionProvider provider, Path optimizedModel, Path profiles, String label,
                                   int intraOpThreads) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        List<AutoCloseable> owned = new ArrayList<>();
        OrtSession session = null;
        try {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // ORT defaults to one thread per *physical* core, which on small VMs is half of what PyTorch uses;
            // CONVBERT_ORT_THREADS overrides
            so.setIntraOpNumThreads(intraOpThreads);
            if (optimizedModel != null) {
                so.setOptimizedModelFilePath(optimizedModel.toString());
            }
            String used = provider.configure(so, owned);
            boolean checkPlacement = profiles != null && !used.startsWith("cpu");
            if (checkPlacement) {
                so.enableProfiling(profiles.resolve("placement").toString());
            }
            session = env.createSession(file.toString(), so);
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            String cfg = meta.get("convbert.config");
            if (cfg == null) {
                throw new ScoringException(file + ": no convbert.config in the model metadata; export it with 'convbert export'");
            }
            ConvBertConfig config;
            try {
                config = ConvBertConfig.fromJson((ObjectNode) new ObjectMapper().readTree(cfg));
            } catch (IOException | RuntimeException e) {
                throw new ScoringException(file + ": bad metadata: " + e.getMessage(), e);
            }
            NodePlacement.Verdict placement = checkPlacement ? placement(session, config) : null;
            if (placement != null && !placement.ok()) {
                throw new ScoringException(file + ": on " + used + ", " + placement.summary() + "; the model would run "
                        + "partly on the CPU. Re-export with 'convbert export' (current exporter), or use --provider cpu");
            }
            return new OrtModel(file, so, owned, session, config, meta, label != null ? label : used, placement);
        } catch (OrtException | RuntimeException e) {
            if (session != null) {
                session.close();
            }
            so.close();
            closeAll(owned);
            throw e;
        }
    }

    /** Runs one small batch under the profiler and reads where each node ran. */
    private static NodePlacement.Verdict placement(OrtSession session, ConvBertConfig config) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int len = Math.min(8, config.maxPositionEmbeddings());
        long[][] ids = new long[1][len];
        long[][] mask = new long[1][len];
        for (int i = 0; i < len; i++) {
            ids[0][i] = 1 + i % (config.vocabSize() - 1);
            mask[0][i] = 1;
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids);
             OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, new long[1][len]);
             OrtSession.Result ignored = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            String profile = session.endProfiling();
            try {
                return NodePlacement.check(NodePlacement.fromProfile(new ObjectMapper().readTree(Path.of(profile).toFile())));
            } catch (IOException e) {
                throw new ScoringException("ORT profile " + profile + " cannot be read: " + e.getMessage(), e);
            }
        }
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing ONNX Runtime provider options: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Forward passes worth running at once on {@code cores} CPU threads: two (each on half the threads) where there
     * are two or more — passes of short rows run faster side by side than one at a time on every core
     * (docs/RESULTS.md) — else one.
     */
    public static int concurrentPasses(int cores) {
        return Math.min(2, Math.max(1, cores));
    }

    /** Intra-op threads for each of {@code passes} passes run at once on {@code cores} threads: a share, at least one. */
    public static int threadsPerPass(int cores, int passes) {
        return Math.max(1, cores / passes);
    }

    /** {@link #concurrentPasses(int)} of the default threads on the CPU; one on a GPU provider. */
    public static int concurrentPasses(ExecutionProvider provider) {
        return provider.name().equals("cpu") ? concurrentPasses(threads()) : 1;
    }

    /** Intra-op threads by default: {@code CONVBERT_ORT_THREADS}, else every core. */
    public static int threads() {
        String env = System.getenv("CONVBERT_ORT_THREADS");
        if (env == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(env.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException notANumber) {
            // reported below with the value
        }
        throw new dev.convbert.core.InvalidInputException("CONVBERT_ORT_THREADS=\"" + env + "\": expected a thread count of 1"
                + " or more (unset it to use every core)");
    }

    @Override
    public ConvBertConfig config() {
        return config;
    }

    /** The provider in use, e.g. "cpu" or "cuda:0". */
    public String provider() {
        return provider;
    }

    /** Where the nodes ran, for sessions on a GPU provider; empty on the CPU. */
    public Optional<NodePlacement.Verdict> placement() {
        return Optional.ofNullable(placement);
    }

    /** What the export recorded about the model (task, training-time metric, precision) and the provider in use. */
    public Map<String, String> card() {
        Map<String, String> c = new java.util.LinkedHashMap<>();
        for (String k : new String[]{"task", "metric", "dev_split", "dev_metric", "precision"}) {
            String v = metadata.get("convbert." + k);
            if (v != null) {
                c.put(k, v);
            }
        }
        c.put("provider", provider);
        return c;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The {@code max_seq_length} the model was fine-tuned with, as its export recorded it; empty for an export without
     * training metrics (a converted or pre-trained model).
     */
    @Override
    public Optional<Integer> trainedMaxLength() {
        String tm = metadata.get("convbert.training_metrics");
        if (tm == null) {
            return Optional.empty();
        }
        try {
            return ModelDir.trainedMaxLength(new ObjectMapper().readTree(tm));
        } catch (IOException e) {
            return Optional.empty();   // metadata another tool wrote: nothing recorded
        }
    }

    /**
     * The export's own {@code NAME.vocab.txt}; or, for an export of the earlier layout, the folder's {@code vocab.txt}
     * when it is the vocabulary the model records — another export may have written it. Empty: ids only.
     */
    @Override
    public Optional<Path> vocab() {
        Path own = ExportFiles.vocab(file);
        if (Files.isRegularFile(own)) {
            return Optional.of(own);
        }
        Path shared = ExportFiles.sharedVocab(file);
        String expected = metadata.get("convbert.vocab_sha256");
        try {
            return expected != null && Files.isRegularFile(shared) && Hashing.sha256(shared).equals(expected)
                    ? Optional.of(shared) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(shared + ": cannot be read: " + e.getMessage(), e);
        }
    }

    /** What the exporter recorded ({@code convbert.vocab_sha256}). */
    @Override
    public Optional<String> vocabSha256() {
        return Optional.ofNullable(metadata.get("convbert.vocab_sha256"));
    }

    @Override
    public boolean hasClassificationHead() {
        return session.getOutputNames().contains("logits");
    }

    /** ONNX Runtime sessions run concurrent calls. */
    @Override
    public boolean concurrentRuns() {
        return true;
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
            // the input was checked against the model before (ids, types, masks): what is left is the machine's
            throw new CommandFailedException(file + ": ONNX Runtime failed on a batch of " + inputIds.length + ": " + e.getMessage(), e);
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
            } finally {
                options.close();
                closeAll(providerOptions);
            }
        }
    }
}
