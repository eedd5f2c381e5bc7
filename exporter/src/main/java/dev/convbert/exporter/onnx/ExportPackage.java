package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ExportFiles;
import dev.convbert.core.modeldir.ModelDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * An export as files: the graph checked in ONNX Runtime, then {@code NAME.config.json}, {@code NAME.vocab.txt} and
 * {@code NAME.card.json} ({@link ExportFiles}) beside it, and the {@code .onnx} written last, atomically: if it exists,
 * everything beside it landed (an export cut short by a full disk leaves no model to score with a stray vocabulary).
 */
final class ExportPackage {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ExportPackage() {
    }

    static void write(ModelDir dir, OnnxMl.ModelProto model, Path output) throws IOException {
        byte[] bytes = model.toByteArray();
        validateInRuntime(bytes, output);
        Files.deleteIfExists(output);
        Files.createDirectories(output.toAbsolutePath().getParent());
        dir.config().write(ExportFiles.config(output));
        Path vocab = ExportFiles.vocab(output);
        if (dir.hasVocab()) {
            byte[] v = Files.readAllBytes(dir.vocabFile());
            AtomicFiles.write(vocab, o -> o.write(v));
        } else {
            Files.deleteIfExists(vocab);   // an earlier export of this name must not lend this one its vocabulary
        }
        ObjectNode card = JSON.createObjectNode();
        card.put("model", output.getFileName().toString());
        card.put("sha256", Hashing.sha256(bytes));
        card.put("bytes", bytes.length);
        card.put("source", dir.dir().toAbsolutePath().normalize().toString());
        if (dir.hasVocab()) {
            card.put("vocab", vocab.getFileName().toString());
            card.put("vocab_sha256", Hashing.sha256(dir.vocabFile()));
        } else {
            card.put("vocab", "none: the model takes token ids only (pass --vocab to score text)");
        }
        card.put("config", ExportFiles.config(output).getFileName().toString());
        card.putPOJO("inputs", model.getGraph().getInputList().stream().map(OnnxMl.ValueInfoProto::getName).toList());
        card.putPOJO("outputs", model.getGraph().getOutputList().stream().map(OnnxMl.ValueInfoProto::getName).toList());
        ObjectNode meta = card.putObject("metadata");
        model.getMetadataPropsList().forEach(p -> meta.put(p.getKey(), p.getValue()));
        AtomicFiles.writeString(ExportFiles.card(output),
                JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(card) + "\n");
        AtomicFiles.write(output, out -> out.write(bytes));
    }

    /** Loads the graph with every optimisation on and runs a padded batch of two: it must answer finite numbers. */
    private static void validateInRuntime(byte[] model, Path output) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(model, so);
                 OnnxTensor ids = OnnxTensor.createTensor(env, new long[][]{{2, 5, 7, 3}, {2, 9, 3, 0}});
                 OnnxTensor mask = OnnxTensor.createTensor(env, new long[][]{{1, 1, 1, 1}, {1, 1, 1, 0}});
                 OnnxTensor types = OnnxTensor.createTensor(env, new long[][]{{0, 0, 1, 1}, {0, 0, 0, 0}});
                 OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
                // logits when there is a head, else the hidden states: whatever the graph's first output is
                for (float v : ((OnnxTensor) r.get(0)).getFloatBuffer().array()) {
                    if (!Float.isFinite(v)) {
                        throw new ExportException(output, "validation run in ONNX Runtime produced " + v);
                    }
                }
            }
        } catch (OrtException e) {
            throw new ExportException(output, "the exported graph does not load or run in ONNX Runtime: " + e.getMessage());
        }
    }
}
