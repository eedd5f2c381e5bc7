package dev.convbert.trainer.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.trainer.ReferenceSet;
import dev.convbert.trainer.model.TaskModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictCommandTest {
    final StringWriter err = new StringWriter();
    final ObjectMapper json = new ObjectMapper();

    int run(String... args) {
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(args);
    }

    @Test
    void reproducesReferenceLogitsFromIds(@TempDir Path dir) throws IOException {
        for (String set : ReferenceSet.NAMES) {
            ReferenceSet ref = ReferenceSet.load(set);
            Path in = dir.resolve(set + ".jsonl");
            Files.write(in, ref.idLines());
            Path out = dir.resolve(set + ".out.jsonl");
            assertEquals(0, run("predict", "--model", ref.dir().toString(), "--input", in.toString(), "--output",
                    out.toString(), "--hidden-states"), err.toString());
            List<String> got = Files.readAllLines(out);
            double[] want = ref.f64("logits");
            double[] lastWant = ref.f64("last_hidden_state");
            int labels = want.length / ref.batch();
            double max = 0;
            for (int b = 0; b < ref.batch(); b++) {
                JsonNode o = json.readTree(got.get(b));
                for (int c = 0; c < labels; c++) {
                    max = Math.max(max, Math.abs(o.get("logits").get(c).asDouble() - want[b * labels + c]));
                }
                JsonNode h = o.get("last_hidden_state");
                assertEquals(ref.length(), h.size(), "all positions");
                int hidden = h.get(0).size();
                for (int d = 0; d < hidden; d++) {
                    max = Math.max(max, Math.abs(h.get(0).get(d).asDouble() - lastWant[(b * ref.length()) * hidden + d]));
                }
            }
            assertTrue(max <= 1e-4, set + ": max |Δ| " + max);
        }
    }

    @Test
    void textBatchingDoesNotChangeAnswers(@TempDir Path dir) throws IOException {
        Path vocab = Path.of(System.getProperty("convbert.testdata", "../testdata"), "vocab", "bert-base-uncased-vocab.txt");
        List<String> texts = List.of("{\"text_a\": \"a short one\"}",
                "{\"text_a\": \"a considerably longer sentence that needs much more room\", \"text_b\": \"and a pair\"}",
                "{\"text_a\": \"mid length text here\"}", "{\"text_a\": \"x\"}", "{\"text_a\": \"another short one\"}");
        Path in = dir.resolve("texts.jsonl");
        Files.write(in, texts);
        for (boolean invariant : new boolean[]{true, false}) {
            ConvBertConfig c = tiny().withPaddingInvariant(invariant);
            Path model = dir.resolve("model-" + invariant);
            try (TaskModel m = TaskModel.initialise(c, Device.cpu(), 3)) {
                m.save(model, vocab);
            }
            Path one = dir.resolve("one.jsonl");
            Path many = dir.resolve("many.jsonl");
            assertEquals(0, run("predict", "--model", model.toString(), "--input", in.toString(), "--output", one.toString(),
                    "--batch-size", "1"), err.toString());
            assertEquals(0, run("predict", "--model", model.toString(), "--input", in.toString(), "--output", many.toString(),
                    "--batch-size", "8"), err.toString());
            List<String> a = Files.readAllLines(one);
            List<String> b = Files.readAllLines(many);
            assertEquals(texts.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                JsonNode x = json.readTree(a.get(i)).get("logits");
                JsonNode y = json.readTree(b.get(i)).get("logits");
                for (int k = 0; k < x.size(); k++) {
                    assertEquals(x.get(k).asDouble(), y.get(k).asDouble(), 1e-5, "invariant=" + invariant + " line " + i);
                }
            }
        }
    }

    @Test
    void badInputsAreNamed(@TempDir Path dir) throws IOException {
        ReferenceSet ref = ReferenceSet.load("public-tiny");
        Path in = dir.resolve("bad.jsonl");
        Files.write(in, List.of("{\"input_ids\": [2, 5, 500]}"));
        assertEquals(ExitCodes.INVALID_INPUT, run("predict", "--model", ref.dir().toString(), "--input", in.toString(),
                "--output", dir.resolve("o.jsonl").toString()));
        assertTrue(err.toString().contains("bad.jsonl:1: input_ids[2] = 500 is outside the vocabulary [0, 100)"), err.toString());
        Files.write(in, List.of("{\"input_ids\": [2, 5, 50], \"token_type_ids\": [0, 0, 2]}"));
        assertEquals(ExitCodes.INVALID_INPUT, run("predict", "--model", ref.dir().toString(), "--input", in.toString(),
                "--output", dir.resolve("o.jsonl").toString()));
        assertTrue(err.toString().contains("bad.jsonl:1: token_type_ids[2] = 2 is outside [0, 2) (type_vocab_size)"), err.toString());
        Files.write(in, List.of("{\"text_a\": \"hello\"}"));
        assertEquals(ExitCodes.INVALID_INPUT, run("predict", "--model", ref.dir().toString(), "--input", in.toString(),
                "--output", dir.resolve("o.jsonl").toString()));
        assertTrue(err.toString().contains("takes token ids only; pass --vocab FILE"), err.toString());
        assertEquals(ExitCodes.INVALID_INPUT, run("predict", "--model", ref.dir().toString(), "--input", in.toString(),
                "--output", dir.resolve("o.jsonl").toString(), "--device", "gpu"));
        assertTrue(err.toString().contains("--device gpu: no CUDA device is usable"), err.toString());
    }

    static ConvBertConfig tiny() {
        return ConvBertConfig.tiny().toBuilder().numGroups(1).id2label(List.of("a", "b")).build();
    }
}
