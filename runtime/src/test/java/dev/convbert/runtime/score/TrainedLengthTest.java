package dev.convbert.runtime.score;

import ai.onnx.proto.OnnxMl;
import dev.convbert.runtime.TinyModel;
import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** serve cuts texts where training cut them: the max_seq_length an export's training metrics record. */
class TrainedLengthTest {
    static String predict(Path model, Path in, Path out, String... more) throws java.io.IOException {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("predict", "--model", model.toString(), "--vocab",
                TinyModel.VOCAB.toString(), "--input", in.toString(), "--output", out.toString()));
        args.addAll(java.util.List.of(more));
        StringWriter err = new StringWriter();
        assertEquals(0, ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                .execute(args.toArray(String[]::new)), err.toString());
        return Files.readString(out);
    }

    @Test
    void theTrainedLengthIsReadFromTheExport(@TempDir Path dir) throws Exception {
        try (OrtModel m = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu())) {
            assertEquals(Optional.of(128), m.trainedMaxLength());
        }
        OnnxMl.ModelProto.Builder b = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(TinyModel.ONNX)).toBuilder();
        for (int i = 0; i < b.getMetadataPropsCount(); i++) {
            if (b.getMetadataProps(i).getKey().equals("convbert.training_metrics")) {
                String tm = b.getMetadataProps(i).getValue().replace("\"max_seq_length\":128", "\"max_seq_length\":64");
                b.setMetadataProps(i, b.getMetadataProps(i).toBuilder().setValue(tm));
            }
        }
        Path at64 = Files.write(dir.resolve("model64.onnx"), b.build().toByteArray());
        try (OrtModel m = OrtModel.open(at64, ExecutionProvider.cpu())) {
            assertEquals(Optional.of(64), m.trainedMaxLength());
        }
        // every scoring command cuts texts where training did unless told otherwise: the front door decides it once
        String longText = "{\"text_a\": \"" + "a long and winding review of a film that goes on and on ".repeat(8) + "\"}\n";
        Path in = Files.writeString(dir.resolve("long.jsonl"), longText);
        String byDefault = predict(at64, in, dir.resolve("default.jsonl"));
        assertEquals(byDefault, predict(at64, in, dir.resolve("at64.jsonl"), "--max-length", "64"));
        org.junit.jupiter.api.Assertions.assertNotEquals(byDefault, predict(at64, in, dir.resolve("at128.jsonl"), "--max-length", "128"));
        Path scored = dir.resolve("score.json");
        StringWriter err = new StringWriter();
        assertEquals(0, ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute("score",
                "--model", at64.toString(), "--vocab", TinyModel.VOCAB.toString(), "--task", "sst-2", "--data-dir",
                TinyModel.GLUE.toString(), "--split", "test", "--submission-dir", dir.resolve("sub").toString(), "--output",
                scored.toString()), err.toString());
        assertEquals(64, new com.fasterxml.jackson.databind.ObjectMapper().readTree(scored.toFile()).get("max_length").asInt());
        for (int i = b.getMetadataPropsCount() - 1; i >= 0; i--) {
            if (b.getMetadataProps(i).getKey().equals("convbert.training_metrics")) {
                b.removeMetadataProps(i);
            }
        }
        Path none = Files.write(dir.resolve("bare.onnx"), b.build().toByteArray());
        try (OrtModel m = OrtModel.open(none, ExecutionProvider.cpu())) {
            assertEquals(Optional.empty(), m.trainedMaxLength(), "nothing recorded: serve keeps its default");
        }
    }
}
