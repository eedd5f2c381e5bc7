package dev.convbert.runtime.score;

import ai.onnx.proto.OnnxMl;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RELIABILITY.md "no external-data escape": ../x, an absolute path and a symlink out are refused even when allowed. */
class ExternalDataTest {
    static final String TENSOR = "classifier.out_proj.bias";

    /** The committed tiny model with one initializer's bytes moved to {@code location} (written to {@code dataFile}). */
    static Path withExternal(Path dir, String location, Path dataFile) throws IOException {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(TinyModel.ONNX));
        OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            if (t.getName().equals(TENSOR)) {
                byte[] raw = t.getRawData().toByteArray();
                Files.write(dataFile, raw);
                g.setInitializer(i, t.toBuilder().clearRawData()
                        .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", location))
                        .addExternalData(entry("offset", "0"))
                        .addExternalData(entry("length", Integer.toString(raw.length))));
            }
        }
        Path file = dir.resolve("model.onnx");
        Files.write(file, model.toBuilder().setGraph(g).build().toByteArray());
        return file;
    }

    private static OnnxMl.StringStringEntryProto entry(String k, String v) {
        return OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    @Test
    void externalDataIsRefusedByDefaultAndAcceptedInsideTheModelDirectory(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Path model = withExternal(dir, "bias.bin", dir.resolve("bias.bin"));
        var e = assertThrows(ScoringException.class, () -> OrtModel.open(model, ExecutionProvider.cpu()));
        assertTrue(e.getMessage().contains(TENSOR) && e.getMessage().contains("--allow-external-data"), e.getMessage());
        long[][] ids = {{101, 2023, 3185, 102}};
        long[][] zeros = {{0, 0, 0, 0}};
        long[][] ones = {{1, 1, 1, 1}};
        try (OrtModel external = OrtModel.open(model, ExecutionProvider.cpu(), null, true);
             OrtModel original = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu())) {
            assertArrayEquals(original.run(ids, zeros, ones, false).logits()[0],
                    external.run(ids, zeros, ones, false).logits()[0], 0f, "the bias was read from bias.bin");
        }
    }

    @Test
    void pathsOutOfTheDirectoryAreRefusedEvenWhenAllowed(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Path outside = tmp.resolve("outside.bin");
        for (String location : List.of("../outside.bin", outside.toAbsolutePath().toString(), "link.bin")) {
            Files.deleteIfExists(dir.resolve("link.bin"));
            Path model = withExternal(dir, location, outside);
            if (location.equals("link.bin")) {
                Files.createSymbolicLink(dir.resolve("link.bin"), outside);
            }
            var e = assertThrows(ScoringException.class, () -> OrtModel.open(model, ExecutionProvider.cpu(), null, true),
                    location);
            assertTrue(e.getMessage().contains("outside") && e.getMessage().contains(TENSOR), e.getMessage());
        }
    }
}
