package dev.convbert.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.checkpoint.Checkpoint;
import dev.convbert.core.checkpoint.CheckpointConverter;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.tokenize.Vocab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code convbert convert}: a published checkpoint (TF1, pytorch_model.bin, safetensors) to a model directory. */
@Command(name = "convert",
        description = "Convert a checkpoint into a model directory (config.json, model.safetensors, vocab.txt) that every "
                + "other command takes. Reads the original ConvBERT release's TF1 checkpoints (electra/… variables; the "
                + "generator, discriminator head, Adam slots and global_step are skipped and counted), HF "
                + "pytorch_model.bin (restricted unpickler: nothing in the file is executed) and safetensors. The "
                + "config is inferred from the shapes and checked against --config or a config.json beside the "
                + "checkpoint; any disagreement is refused, naming the field and the variable.",
        footer = {"  convbert convert --from convbert_small/model.ckpt-1000000 --config small --vocab convbert_small/vocab.txt \\",
                "      --output models/convbert-small"})
public final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "PATH",
            description = "TF checkpoint (prefix, .index, its folder or 'checkpoint' file), pytorch_model.bin, .safetensors, or a folder holding one.")
    Path from;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "The model directory to create (must not exist or be empty).")
    Path output;

    @Option(names = "--config", paramLabel = "small|medium-small|base|FILE",
            description = "The config the checkpoint was trained with (checked against the shapes); default: config.json beside the checkpoint, else inferred.")
    String config;

    @Option(names = "--vocab", paramLabel = "FILE", description = "vocab.txt to put in the directory; default: vocab.txt beside the checkpoint.")
    Path vocab;

    @Override
    public Integer call() throws IOException {
        long start = System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (Files.exists(output) && (!Files.isDirectory(output) || !isEmpty(output))) {
            throw new InvalidInputException(output + ": exists; choose a new --output or remove it first");
        }
        Checkpoint checkpoint = Checkpoint.read(from);
        Path folder = Files.isDirectory(from) ? from : from.toAbsolutePath().getParent();
        ConvBertConfig given = null;
        String givenName = null;
        if (config != null) {
            given = switch (config) {
                // presets are ours; a checkpoint trained elsewhere has HF/TF semantics (padding reaches the convolution)
                case "small", "medium-small", "base" -> ConvBertConfig.preset(config).withPaddingInvariant(false);
                default -> readConfig(Path.of(config));
            };
            givenName = "--config " + config;
        } else if (Files.isRegularFile(folder.resolve(ModelDir.CONFIG))) {
            given = readConfig(folder.resolve(ModelDir.CONFIG));
            givenName = folder.resolve(ModelDir.CONFIG).toString();
        }
        CheckpointConverter.Result result = CheckpointConverter.convert(checkpoint, given, givenName);
        Path vocabFile = vocab != null ? vocab : Files.isRegularFile(folder.resolve(ModelDir.VOCAB)) ? folder.resolve(ModelDir.VOCAB) : null;
        if (vocabFile != null) {
            int size = Vocab.read(vocabFile).size();
            if (size != result.config().vocabSize()) {
                throw new InvalidInputException(vocabFile + ": has " + size + " tokens but the checkpoint's word embeddings have "
                        + result.config().vocabSize() + " rows (vocab_size); pass the vocabulary the model was trained with");
            }
        }

        // the whole directory appears at once: written beside the target, then renamed
        Path target = output.toAbsolutePath().normalize();
        Path tmp = AtomicFiles.tempFor(target);
        AtomicFiles.deleteTree(tmp);
        ModelDir.write(tmp, result.config(), result.tensors(), vocabFile, Map.of("format", "pt"));
        double seconds = (System.nanoTime() - start) / 1e9;
        ObjectNode summary = new ObjectMapper().createObjectNode();
        summary.put("source", checkpoint.source().toAbsolutePath().normalize().toString());
        summary.put("format", checkpoint.format());
        summary.put("config_from", givenName != null ? givenName : "inferred from the shapes");
        summary.put("classification_head", result.hasHead());
        summary.put("tensors", result.tensors().size());
        summary.put("parameters", result.tensors().stream().mapToLong(t -> t.numel()).sum());
        ObjectNode skipped = summary.putObject("skipped");
        result.skipped().forEach((why, names) -> skipped.put(why, names.size()));
        summary.put("vocab_sha256", vocabFile == null ? null : Hashing.sha256(vocabFile));
        summary.put("seconds", Math.round(seconds * 1000) / 1000.0);
        AtomicFiles.writeString(tmp.resolve("convert.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(summary) + "\n");
        if (Files.isDirectory(target)) {
            Files.delete(target);   // empty, checked above
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);

        out.printf("%s: %s, %s%n", checkpoint.source(), checkpoint.format(), CheckpointConverter.summary(result.config()));
        result.skipped().forEach((why, names) -> out.printf("  skipped %d: %s%n", names.size(), why));
        checkpoint.notRead().forEach((name, why) -> out.printf("  not read: %s (%s)%n", name, why));
        if (vocabFile == null) {
            err.println("warning: no vocab.txt beside the checkpoint and no --vocab: text inputs will need --vocab later");
        }
        out.printf("wrote %s (%d tensors, %,d parameters, %s) in %.2f s%n", output, result.tensors().size(),
                summary.get("parameters").asLong(), result.hasHead() ? "with its classification head" : "encoder only", seconds);
        out.flush();
        return ExitCodes.OK;
    }

    private static ConvBertConfig readConfig(Path file) throws IOException {
        return ConvBertConfig.read(file);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

}
