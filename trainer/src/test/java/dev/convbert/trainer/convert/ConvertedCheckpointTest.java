package dev.convbert.trainer.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.predict.Predictor;
import dev.convbert.trainer.ReferenceSet;
import dev.convbert.trainer.model.DjlPredictorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checkpoints users download, run: each interop fixture converted with {@code convbert convert} (or, for a hub
 * folder, opened as it is) must reproduce the independent reference's last_hidden_state at real tokens and, where a
 * head came along, its logits, within 1e-4.
 */
class ConvertedCheckpointTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        return ConvBertCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    @ParameterizedTest
    @CsvSource({"public-tiny/tf, public-tiny", "public-grouped/tf/checkpoint, public-grouped",
            "public-tiny/bin/pytorch_model.bin, public-tiny", "public-grouped/bin/pytorch_model.bin, public-grouped"})
    void convertedModelMatchesTheReference(String fixture, String set, @TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("model");
        assertEquals(0, run("convert", "--from", TESTDATA.resolve("interop").resolve(fixture).toString(),
                "--output", dir.toString()), err.toString());
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("convert.json")));
        assertParity(dir, ReferenceSet.load(set), fixture.contains("/bin/"));
    }

    /** A hub folder (config.json + pytorch_model.bin) runs without conversion. */
    @Test
    void hubFolderRunsAsItIs() throws IOException {
        assertParity(TESTDATA.resolve("interop/public-tiny/bin"), ReferenceSet.load("public-tiny"), true);
    }

    /** predict on an encoder writes the first-token vector and every position's hidden state, no logits. */
    @Test
    void predictOnAnEncoderWritesHiddenStates(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("encoder");
        assertEquals(0, run("convert", "--from", TESTDATA.resolve("interop/public-tiny/tf").toString(), "--output", dir.toString()));
        ReferenceSet ref = ReferenceSet.load("public-tiny");
        ObjectMapper json = new ObjectMapper();
        Path in = Files.write(tmp.resolve("in.jsonl"), ref.idLines());
        Path result = tmp.resolve("out.jsonl");
        assertEquals(0, run("predict", "--model", dir.toString(), "--input", in.toString(), "--output", result.toString()), err.toString());
        double[] want = ref.f64("last_hidden_state");
        int hidden = 64;
        JsonNode first = json.readTree(Files.readAllLines(result).get(0));
        assertFalse(first.has("logits"));
        assertEquals(ref.length(), first.get("last_hidden_state").size());
        for (int d = 0; d < hidden; d++) {
            assertEquals(want[d], first.get("first_token").get(d).asDouble(), 1e-4);
        }
        // an encoder cannot be scored or served: it is refused with what to do instead
        assertEquals(2, run("predict-glue", "--model", dir.toString(), "--task", "sst-2", "--data-dir",
                TESTDATA.resolve("glue").toString(), "--output", tmp.resolve("sub").toString()), out.toString());
        assertTrue(err.toString().contains("without a classification head"), err.toString());
    }

    static void assertParity(Path dir, ReferenceSet ref, boolean head) throws IOException {
        try (Predictor p = new DjlPredictorProvider().open(dir, "cpu")) {
            assertEquals(head, p.hasClassificationHead());
            Predictor.Output o = p.run(ref.inputIds(), ref.tokenTypeIds(), ref.attentionMask(), true);
            int hidden = p.config().hiddenSize();
            double[] last = ref.f64("last_hidden_state");
            double max = 0;
            for (int b = 0; b < ref.batch(); b++) {
                for (int l = 0; l < ref.length(); l++) {
                    if (ref.attentionMask()[b][l] == 1) {
                        for (int d = 0; d < hidden; d++) {
                            max = Math.max(max, Math.abs(o.lastHiddenState()[b][l][d] - last[(b * ref.length() + l) * hidden + d]));
                        }
                    }
                }
            }
            assertTrue(max <= 1e-4, dir + ": last_hidden_state max |Δ| " + max);
            System.out.printf("%s: last_hidden_state (real tokens) max |Δ| %.2e%n", dir, max);
            if (!head) {
                assertNull(o.logits());
                return;
            }
            double[] logits = ref.f64("logits");
            int labels = p.config().numLabels();
            double maxLogit = 0;
            for (int b = 0; b < ref.batch(); b++) {
                for (int c = 0; c < labels; c++) {
                    maxLogit = Math.max(maxLogit, Math.abs(o.logits()[b][c] - logits[b * labels + c]));
                }
            }
            assertTrue(maxLogit <= 1e-4, dir + ": logits max |Δ| " + maxLogit);
            System.out.printf("%s: logits max |Δ| %.2e%n", dir, maxLogit);
        }
    }
}
