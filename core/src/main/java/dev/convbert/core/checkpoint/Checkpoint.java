package dev.convbert.core.checkpoint;

import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.core.safetensors.SafetensorsFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The tensors of a checkpoint in any format users download: a TF1 checkpoint, a {@code pytorch_model.bin} (zip or
 * legacy), or a {@code model.safetensors}; a model directory holding one of the latter two works too.
 *
 * @param format   what was read, in words ("TF1 tensor bundle", "torch zip (…)", "safetensors")
 * @param source   the file (or TF prefix) read
 * @param notRead  entries that are not numeric tensors, with why (TF strings, partitioned variables, pickle non-tensors)
 */
public record Checkpoint(String format, Path source, Map<String, SafeTensor> tensors, Map<String, String> notRead) {

    /** The weight files a folder is read from, first found first: HF's names, which a model directory uses too. */
    public static final String SAFETENSORS = "model.safetensors";
    public static final String PYTORCH_BIN = "pytorch_model.bin";

    /** Reads {@code path}, choosing the format by the file's name and contents. */
    public static Checkpoint read(Path path) throws IOException {
        if (!Files.exists(path) && !Files.exists(path.resolveSibling(path.getFileName() + ".index"))) {
            throw new CheckpointFormatException(path, "does not exist");
        }
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(SAFETENSORS))) {
                return read(path.resolve(SAFETENSORS));
            }
            if (Files.isRegularFile(path.resolve(PYTORCH_BIN))) {
                return read(path.resolve(PYTORCH_BIN));
            }
            if (!TfBundle.looksLike(path)) {
                throw new CheckpointFormatException(path, "holds no model.safetensors, pytorch_model.bin or TF checkpoint (*.index)");
            }
        }
        if (TfBundle.looksLike(path)) {
            TfBundle.Contents c = TfBundle.read(path);
            return new Checkpoint("TF1 tensor bundle", c.prefix(), c.tensors(), c.notRead());
        }
        if (path.getFileName().toString().endsWith(".safetensors")) {
            try {
                return new Checkpoint("safetensors", path, Safetensors.read(path).tensors(), Map.of());
            } catch (SafetensorsFormatException e) {
                throw new CheckpointFormatException(path, e.getMessage().substring(e.getMessage().indexOf(": ") + 2), e);
            }
        }
        TorchPickle.Contents c = TorchPickle.read(path);
        return new Checkpoint(c.format(), path, c.tensors(), c.notRead());
    }
}
