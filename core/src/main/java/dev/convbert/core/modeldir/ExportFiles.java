package dev.convbert.core.modeldir;

import java.nio.file.Path;

/**
 * The files an export owns beside its {@code NAME.onnx}: {@code NAME.config.json}, {@code NAME.vocab.txt} and
 * {@code NAME.card.json}, each named after the model so that two exports in one folder never share (and overwrite)
 * a vocabulary. Exports written before this layout have one {@code vocab.txt} per folder; it is read only when the
 * model records the vocabulary's sha256 and the file has it.
 */
public final class ExportFiles {
    private ExportFiles() {}

    /** {@code sst2.onnx} → {@code sst2}. */
    public static String name(Path onnx) {
        return onnx.getFileName().toString().replaceFirst("\\.onnx$", "");
    }

    public static Path vocab(Path onnx) {
        return sibling(onnx, ".vocab.txt");
    }

    public static Path config(Path onnx) {
        return sibling(onnx, ".config.json");
    }

    public static Path card(Path onnx) {
        return sibling(onnx, ".card.json");
    }

    /** The folder-wide vocab.txt of the earlier layout. */
    public static Path sharedVocab(Path onnx) {
        return onnx.toAbsolutePath().resolveSibling(ModelDir.VOCAB);
    }

    private static Path sibling(Path onnx, String suffix) {
        return onnx.toAbsolutePath().resolveSibling(name(onnx) + suffix);
    }
}
