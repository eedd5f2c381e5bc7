package dev.convbert.core.modeldir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.checkpoint.Checkpoint;
import dev.convbert.core.checkpoint.TorchPickle;
import dev.convbert.core.config.ConfigException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.core.safetensors.SafetensorsFormatException;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model directory in HuggingFace layout: {@code config.json}, {@code model.safetensors} (or a hub
 * {@code pytorch_model.bin}, read by the restricted unpickler of {@link TorchPickle}, which executes nothing),
 * {@code vocab.txt}, plus our {@code training_metrics.json} when the model was trained here. Other pickle files are
 * refused, never loaded.
 *
 * <p>Sequence-classification weights carry {@code convbert.} names and {@code classifier.*}; an encoder
 * ({@code ConvBertModel}: what pre-training writes and what encoder checkpoints convert to) has neither.
 */
public final class ModelDir {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = Checkpoint.SAFETENSORS;
    public static final String VOCAB = "vocab.txt";
    public static final String TRAINING_METRICS = "training_metrics.json";
    /** Our config.json field: the sha256 of the vocab.txt the weights were trained with. */
    public static final String VOCAB_SHA256 = "vocab_sha256";
    /** The checkpoint pointer of a training run in progress (trainer's Checkpoints). */
    public static final String RUN_CHECKPOINT = "checkpoint.json";

    public static final String PYTORCH_WEIGHTS = Checkpoint.PYTORCH_BIN;
    private static final List<String> PICKLE_FILES = List.of("model.pt", "model.pth", "model.pkl");
    private static final String HEAD_TENSOR = "classifier.out_proj.weight";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final ConvBertConfig config;

    private ModelDir(Path dir, ConvBertConfig config) {
        this.dir = dir;
        this.config = config;
    }

    /** Opens {@code dir}, reading and validating its config; weights are read on demand. */
    public static ModelDir open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelDirException(dir, "not a directory; expected a model directory with config.json and model.safetensors");
        }
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights) && !Files.isRegularFile(dir.resolve(PYTORCH_WEIGHTS))) {
            for (String pickle : PICKLE_FILES) {
                if (Files.exists(dir.resolve(pickle))) {
                    throw new ModelDirException(dir.resolve(pickle), "only pickles named pytorch_model.bin (HF's state dict) "
                            + "are read; rename it if it is a state dict, or convert it: convbert convert --from "
                            + dir.resolve(pickle) + " --output DIR (see docs/MODEL_DIR.md)");
                }
            }
            throw new ModelDirException(weights, "missing (nor pytorch_model.bin); a model directory needs config.json and model.safetensors");
        }
        // a fine-tuning run writes its best weights as it goes and training_metrics.json when it ends: weights
        // beside a checkpoint pointer and no metrics are a run that was cut off, not a finished model
        if (Files.isRegularFile(dir.resolve(RUN_CHECKPOINT)) && !Files.isRegularFile(dir.resolve(TRAINING_METRICS))) {
            throw new ModelDirException(dir, "is a training run that has not finished (" + RUN_CHECKPOINT + " but no "
                    + TRAINING_METRICS + "); finish it with --resume, or use a finished model directory");
        }
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) {
            throw new ModelDirException(cfg, "missing; a model directory needs config.json and model.safetensors");
        }
        try {
            return new ModelDir(dir, ConvBertConfig.read(cfg));
        } catch (ConfigException e) {
            throw new ModelDirException(cfg, e.getMessage().replace(cfg + ": ", ""), e);
        } catch (IOException e) {
            throw new ModelDirException(cfg, "cannot be read: " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    public ConvBertConfig config() {
        return config;
    }

    /** {@code model.safetensors}, or {@code pytorch_model.bin} when that is all the directory has. */
    public Path weightsFile() {
        Path safetensors = dir.resolve(WEIGHTS);
        return Files.isRegularFile(safetensors) ? safetensors : dir.resolve(PYTORCH_WEIGHTS);
    }

    /**
     * {@code vocab.txt} of this directory; an error naming the path when it has none, or when it is not the
     * vocabulary the config records ({@code vocab_sha256}).
     */
    public Path vocabFile() {
        Path v = dir.resolve(VOCAB);
        if (!Files.isRegularFile(v)) {
            throw new ModelDirException(v, "missing; pass --vocab FILE or put the WordPiece vocabulary beside the weights");
        }
        String recorded = config.extra().path(VOCAB_SHA256).asText(null);
        if (recorded != null && !recorded.equals(sha256(v))) {
            throw new ModelDirException(v, "changed since the model was written (" + dir.resolve(CONFIG) + " records "
                    + VOCAB_SHA256 + " " + recorded.substring(0, 12) + "…); restore the model's own vocab.txt");
        }
        return v;
    }

    /** The sha256 of the model's vocabulary: recorded in config.json, else that of the vocab.txt beside it. */
    public Optional<String> vocabSha256() {
        String recorded = config.extra().path(VOCAB_SHA256).asText(null);
        if (recorded != null) {
            return Optional.of(recorded);
        }
        return hasVocab() ? Optional.of(sha256(dir.resolve(VOCAB))) : Optional.empty();
    }

    private static String sha256(Path file) {
        try {
            return Hashing.sha256(file);
        } catch (IOException e) {
            throw new ModelDirException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** Whether the weights include a sequence-classification head; without one this is an encoder. */
    public boolean hasClassificationHead() {
        return weights().tensors().containsKey(HEAD_TENSOR);
    }

    public boolean hasVocab() {
        return Files.isRegularFile(dir.resolve(VOCAB));
    }

    /** Reads (memory-maps) all tensors, validating the safetensors header, or unpickles pytorch_model.bin safely. */
    public Safetensors.Contents weights() {
        try {
            if (weightsFile().getFileName().toString().equals(PYTORCH_WEIGHTS)) {
                return new Safetensors.Contents(TorchPickle.read(weightsFile()).tensors(), Map.of());
            }
            return Safetensors.read(weightsFile());
        } catch (SafetensorsFormatException e) {
            throw new ModelDirException(weightsFile(), e.getMessage().substring(e.getMessage().indexOf(": ") + 2), e);
        } catch (IOException e) {
            throw new ModelDirException(weightsFile(), "cannot be read: " + e.getMessage(), e);
        }
    }

    /** {@code training_metrics.json}, or {@code null} for models not trained here. */
    public JsonNode trainingMetrics() {
        Path p = dir.resolve(TRAINING_METRICS);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new ModelDirException(p, "not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The {@code max_seq_length} a fine-tuning run recorded in its training metrics (a model directory's
     * training_metrics.json, an export's metadata); empty when {@code trainingMetrics} is null or records none.
     */
    public static Optional<Integer> trainedMaxLength(JsonNode trainingMetrics) {
        JsonNode n = trainingMetrics == null ? null : trainingMetrics.path("hyperparameters").path("max_seq_length");
        return n != null && n.canConvertToInt() && n.asInt() > 0 ? Optional.of(n.asInt()) : Optional.empty();
    }

    /** Where texts are cut for this model: the trained max_seq_length, else {@code fallback}; within its positions. */
    public int maxLength(int fallback) {
        return Math.min(trainedMaxLength(trainingMetrics()).orElse(fallback), config.maxPositionEmbeddings());
    }

    /** The special tokens of BERT's WordPiece vocabulary, as HF's tokenizer files name them. */
    private static final Map<String, String> SPECIAL_TOKENS = new java.util.LinkedHashMap<>(Map.of("unk_token", "[UNK]",
            "sep_token", "[SEP]", "pad_token", "[PAD]", "cls_token", "[CLS]", "mask_token", "[MASK]"));

    /**
     * {@code tokenizer_config.json} and {@code special_tokens_map.json} beside {@code vocab.txt}, so that HF's
     * {@code AutoTokenizer.from_pretrained(dir)} builds the tokenizer this project uses: ConvBERT's (BERT's uncased
     * WordPiece, lower-casing, accents stripped with it), texts up to the model's positions.
     */
    private static void writeTokenizerFiles(Path dir, ConvBertConfig config) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode special = JSON.createObjectNode();
        SPECIAL_TOKENS.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> special.put(e.getKey(), e.getValue()));
        com.fasterxml.jackson.databind.node.ObjectNode tokenizer = special.deepCopy()
                .put("tokenizer_class", "ConvBertTokenizer").put("do_lower_case", true).put("do_basic_tokenize", true)
                .put("tokenize_chinese_chars", true).put("model_max_length", config.maxPositionEmbeddings());
        tokenizer.putNull("strip_accents");       // null: follow do_lower_case, as BERT uncased does
        AtomicFiles.writeString(dir.resolve("special_tokens_map.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(special) + "\n");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tokenizer) + "\n");
    }

    /**
     * Writes a complete model directory; each file is replaced atomically. {@code vocab} may be {@code null} when the
     * directory already holds the right vocabulary.
     */
    public static ModelDir write(Path dir, ConvBertConfig config, Collection<SafeTensor> tensors, Path vocab,
                                 Map<String, String> metadata) {
        try {
            Files.createDirectories(dir);
            Safetensors.write(dir.resolve(WEIGHTS), tensors, metadata);
            if (vocab != null && !vocab.toAbsolutePath().normalize().equals(dir.resolve(VOCAB).toAbsolutePath().normalize())) {
                byte[] bytes = Files.readAllBytes(vocab);
                AtomicFiles.write(dir.resolve(VOCAB), out -> out.write(bytes));
            }
            if (Files.isRegularFile(dir.resolve(VOCAB))) {
                config = config.withExtra(VOCAB_SHA256, Hashing.sha256(dir.resolve(VOCAB)));
                writeTokenizerFiles(dir, config);
            }
            boolean classifier = tensors.stream().anyMatch(t -> t.name().equals("classifier.out_proj.weight"));
            config = config.withExtra("architectures", JSON.createArrayNode()
                    .add(classifier ? "ConvBertForSequenceClassification" : "ConvBertModel"));
            config.write(dir.resolve(CONFIG));
        } catch (IOException e) {
            throw new UncheckedIOException("writing model directory " + dir + ": " + e.getMessage(), e);
        }
        return new ModelDir(dir, config);
    }
}
