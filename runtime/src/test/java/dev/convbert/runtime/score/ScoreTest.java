package dev.convbert.runtime.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScoreTest {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        return ConvBertCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    @Test
    void devScoreReproducesTheRecordedMetricAndPassesTheGate(@TempDir Path dir) throws IOException {
        Path results = dir.resolve("score.json");
        assertEquals(0, run("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir",
                TinyModel.GLUE.toString(), "--split", "dev", "--vocab", TinyModel.VOCAB.toString(), "--output", results.toString()),
                err.toString());
        JsonNode r = new ObjectMapper().readTree(results.toFile());
        assertTrue(r.get("passed").asBoolean());
        JsonNode dev = r.get("dev");
        assertTrue(dev.get("gate").get("applied").asBoolean());
        assertEquals(dev.get("gate").get("training_value").asDouble(), dev.get("main").asDouble(), 1e-9,
                "ONNX Runtime reproduces the training-time accuracy exactly");
        assertEquals("cpu", r.get("provider").asText());
    }

    @Test
    void gateFailsForAModelWithPermutedLabels(@TempDir Path dir) throws IOException {
        Path bad = TinyModel.permutedLabels(dir);
        int code = run("score", "--model", bad.toString(), "--task", "sst-2", "--data-dir", TinyModel.GLUE.toString(),
                "--vocab", TinyModel.VOCAB.toString(), "--output", dir.resolve("r.json").toString());
        assertEquals(ExitCodes.FAILURE, code);
        assertTrue(out.toString().contains("FAIL (the exported model does not reproduce its training-time accuracy)"), out.toString());
        assertTrue(err.toString().contains("accuracy gate failed"), err.toString());
        assertFalse(new ObjectMapper().readTree(dir.resolve("r.json").toFile()).get("passed").asBoolean());
    }

    @Test
    void testSplitWritesTheSubmissionFile(@TempDir Path dir) throws IOException {
        assertEquals(0, run("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir",
                TinyModel.GLUE.toString(), "--split", "test", "--vocab", TinyModel.VOCAB.toString(), "--submission-dir",
                dir.toString()), err.toString());
        List<String> lines = Files.readAllLines(dir.resolve("SST-2.tsv"));
        assertEquals("index\tprediction", lines.get(0));
        assertEquals(11, lines.size());
        assertTrue(lines.get(1).matches("0\t[01]"), lines.get(1));
    }

    /** Scoring a dev file other than the training one: the gate says so instead of blaming the export. */
    @Test
    void theGateNamesADifferentDevFile(@TempDir Path dir) throws IOException {
        Path glue = Files.createDirectories(dir.resolve("SST-2"));
        List<String> dev = new java.util.ArrayList<>(Files.readAllLines(TinyModel.GLUE.resolve("SST-2/dev.tsv")));
        for (int i = 1; i <= 30; i++) {          // flip half the labels: the accuracy moves far past the tolerance
            String[] f = dev.get(i).split("\t");
            dev.set(i, f[0] + "\t" + (f[1].equals("0") ? "1" : "0"));
        }
        Files.write(glue.resolve("dev.tsv"), dev);
        assertEquals(ExitCodes.FAILURE, run("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir",
                dir.toString(), "--vocab", TinyModel.VOCAB.toString(), "--output", dir.resolve("r.json").toString()));
        assertTrue(out.toString().contains("FAIL (scored on a different dev file than at training time")
                && out.toString().contains(glue.resolve("dev.tsv") + " has sha256"), out.toString());
        assertFalse(out.toString().contains("does not reproduce"), out.toString());
        assertTrue(new ObjectMapper().readTree(dir.resolve("r.json").toFile()).get("dev").get("gate").has("different_dev_file"));
    }

    /** An empty or header-only test split was an empty submission with exit 0. */
    @Test
    void aHeaderOnlySplitIsRefusedEverywhere(@TempDir Path dir) throws IOException {
        Path glue = Files.createDirectories(dir.resolve("SST-2"));
        Files.writeString(glue.resolve("test.tsv"), "index\tsentence\n");
        Files.copy(TinyModel.GLUE.resolve("SST-2/dev.tsv"), glue.resolve("dev.tsv"));
        assertEquals(ExitCodes.INVALID_INPUT, run("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir",
                dir.toString(), "--split", "test", "--vocab", TinyModel.VOCAB.toString(), "--submission-dir", dir.resolve("s").toString()));
        assertTrue(err.toString().contains(glue.resolve("test.tsv") + ": holds no examples (a header only)"), err.toString());
        assertEquals(ExitCodes.INVALID_INPUT, run("predict-glue", "--model", TinyModel.ONNX.toString(), "--task", "sst-2",
                "--data-dir", dir.toString(), "--vocab", TinyModel.VOCAB.toString(), "--output", dir.resolve("p").toString()));
        assertTrue(Files.notExists(dir.resolve("s/SST-2.tsv")) && Files.notExists(dir.resolve("p/SST-2.tsv")), "no empty submission");
    }

    @Test
    void gpuProviderWithoutCudaSaysWhatIsMissing(@TempDir Path dir) {
        org.junit.jupiter.api.Assumptions.assumeFalse(ai.onnxruntime.OrtEnvironment.getAvailableProviders()
                .contains(ai.onnxruntime.OrtProvider.CUDA), "a CUDA build: the provider is there");
        int code = run("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir", TinyModel.GLUE.toString(),
                "--vocab", TinyModel.VOCAB.toString(), "--provider", "cuda");
        assertEquals(ExitCodes.FAILURE, code, "the machine lacks something, not the input");
        assertTrue(err.toString().contains("cuda provider requested but it cannot load"), err.toString());
        assertTrue(err.toString().contains("--allow-fallback"), err.toString());
        err.getBuffer().setLength(0);
        out.getBuffer().setLength(0);
        assertEquals(0, run("score", "--model", TinyModel.ONNX.toString(), "--task", "sst-2", "--data-dir",
                TinyModel.GLUE.toString(), "--vocab", TinyModel.VOCAB.toString(), "--provider", "cuda", "--allow-fallback"),
                err.toString());
        assertTrue(out.toString().contains("provider: cpu (fallback:"), out.toString());
    }
}
