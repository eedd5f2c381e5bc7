package dev.convbert.runtime.score;

import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.predict.Predictor;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two swapped tokens in vocab.txt turn "a good movie" into confident nonsense with exit 0 unless the vocabulary is
 * checked against the one the export recorded: score, predict and serve refuse it, naming the file and the model.
 */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class VocabularyMismatchTest {

    static Path swapped(Path dir) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(TinyModel.VOCAB));
        Collections.swap(lines, lines.indexOf("good"), lines.indexOf("bad"));
        return Files.write(dir.resolve("vocab.txt"), lines);
    }

    @Test
    void everyCommandRefusesAnotherVocabulary(@TempDir Path dir) throws Exception {
        Path vocab = swapped(dir);
        Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"text_a\": \"this is a good movie\"}\n");
        List<List<String>> commands = List.of(
                List.of("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir", TinyModel.GLUE.toString(),
                        "--split", "dev", "--vocab", vocab.toString()),
                List.of("predict", "--model", TinyModel.ONNX.toString(), "--input", in.toString(), "--output",
                        dir.resolve("out.jsonl").toString(), "--vocab", vocab.toString()),
                List.of("serve", "--model", TinyModel.ONNX.toString(), "--port", "0", "--vocab", vocab.toString()));
        for (List<String> args : commands) {
            StringWriter err = new StringWriter();
            int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                    .execute(args.toArray(String[]::new));
            assertEquals(2, code, args.get(0) + ": " + err);
            assertTrue(err.toString().contains(vocab + ": is not the vocabulary " + TinyModel.ONNX + " was trained with"),
                    args.get(0) + ": " + err);
        }
        assertTrue(Files.notExists(dir.resolve("out.jsonl")), "nothing written");
    }

    @Test
    void theModelsOwnVocabularyPasses() throws Exception {
        try (OrtModel m = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu())) {
            Predictor.requireVocab(m, TinyModel.ONNX, TinyModel.VOCAB);
            assertTrue(m.vocabSha256().isPresent());
        }
    }

    @Test
    void aModelThatRecordsNoVocabularyIsNotChecked(@TempDir Path dir) throws Exception {
        try (OrtModel m = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu())) {
            Predictor unrecorded = new Predictor() {
                @Override public dev.convbert.core.config.ConvBertConfig config() { return m.config(); }
                @Override public boolean hasClassificationHead() { return true; }
                @Override public java.util.Optional<Path> vocab() { return java.util.Optional.empty(); }
                @Override public java.util.Optional<String> vocabSha256() { return java.util.Optional.empty(); }
                @Override public Output run(long[][] a, long[][] b, long[][] c, boolean h) { return m.run(a, b, c, h); }
                @Override public void close() {}
            };
            Predictor.requireVocab(unrecorded, "hub model", swapped(dir));
            assertThrows(dev.convbert.core.InvalidInputException.class, () -> Predictor.requireVocab(m, TinyModel.ONNX, swapped(dir)));
        }
    }
}
