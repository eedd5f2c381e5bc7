package dev.convbert.runtime.score;

import ai.onnx.proto.OnnxMl;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** serve cuts texts where training cut them: the max_seq_length an export's training metrics record. */
class TrainedLengthTest {
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
