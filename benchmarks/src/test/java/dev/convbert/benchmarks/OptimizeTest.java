package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.Hashing;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code convbert optimize} end to end on a tiny STS-B model (regression: any change in the outputs moves the metric,
 * so the gate can be made to fail on purpose): the dynamic int8 export misses a 0.005 tolerance (|Δ| ≈ 0.03 on this
 * model, float32's ≈ 0.0002) and must be neither timed nor chosen; a rerun keeps what was measured; the winner is the
 * very file that was gated, and {@code score} of it, with the settings its card records, gives the gated metric.
 */
@Timeout(300)   // child JVMs time the candidates
class OptimizeTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final String GLUE = TESTDATA.resolve("glue").toString();
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static Path tuned;

    @BeforeAll
    static void fineTuneATinyRegressionModel() throws IOException {
        Path config = dir.resolve("tiny.json");
        ConvBertConfig.tiny().toBuilder().hiddenSize(48).intermediateSize(96).embeddingSize(24)
                .id2label(List.of("LABEL_0")).build().write(config);
        tuned = dir.resolve("stsb");
        assertEquals(0, cli(new StringWriter(), "finetune", "--task", "sts-b", "--data-dir", GLUE, "--config", config.toString(),
                "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output", tuned.toString(),
                "--max-steps", "8", "--batch-size", "3", "--lr", "2e-3", "--layer-decay", "1.0"));
    }

    static int cli(StringWriter out, String... args) {
        return ConvBertCli.commandLine(new PrintWriter(out, true), new PrintWriter(out, true)).execute(args);
    }

    static List<String> optimize(Path output, String... extra) {
        List<String> a = new ArrayList<>(List.of("optimize", "--model", tuned.toString(), "--task", "sts-b", "--data-dir",
                GLUE, "--output", output.toString(), "--tolerance", "0.005", "--settle-ms", "0"));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void aFailingCandidateIsNeitherTimedNorChosenAndARerunKeepsTheMeasurements() throws IOException {
        Path out = dir.resolve("shapes");
        List<String> args = optimize(out, "--candidates", "float32,int8", "--workers", "1", "--shapes", "1x8,2x16",
                "--min-seconds", "0.05", "--max-runs", "5", "--repeats", "5");
        assertEquals(0, cli(new StringWriter(), args.toArray(String[]::new)));
        JsonNode state = JSON.readTree(out.resolve("optimize.json").toFile());
        assertFalse(state.path("candidates").path("int8").path("gate").path("passed").asBoolean(true), state.toString());
        assertTrue(state.path("candidates").path("float32").path("gate").path("passed").asBoolean(), state.toString());
        assertFalse(state.path("timings").has("int8"), "a candidate that failed its gate was timed: " + state.path("timings"));
        assertEquals("float32", state.path("winner").path("export").asText());
        assertEquals(1, state.path("ranking").size(), state.path("ranking").toString());
        assertEquals(5, state.path("timings").path("float32").path("1x8").path("runs").asInt(), state.toString());

        StringWriter again = new StringWriter();
        assertEquals(0, cli(again, args.toArray(String[]::new)));
        JsonNode resumed = JSON.readTree(out.resolve("optimize.json").toFile());
        assertEquals(state.path("timings"), resumed.path("timings"), "a rerun measured again instead of resuming");
        assertEquals(2, resumed.path("sessions").asInt());

        // what a run killed while timing 2x16 leaves: its gates and the 1x8 timings saved, nothing of 2x16
        com.fasterxml.jackson.databind.node.ObjectNode cut = (com.fasterxml.jackson.databind.node.ObjectNode) resumed.deepCopy();
        ((com.fasterxml.jackson.databind.node.ArrayNode) cut.get("measured")).remove(1);
        ((com.fasterxml.jackson.databind.node.ObjectNode) cut.get("timings").get("float32")).remove("2x16");
        cut.remove("winner");
        java.nio.file.Files.writeString(out.resolve("optimize.json"), cut.toString());
        assertEquals(0, cli(new StringWriter(), args.toArray(String[]::new)));
        JsonNode finished = JSON.readTree(out.resolve("optimize.json").toFile());
        assertEquals(state.path("timings").path("float32").path("1x8"), finished.path("timings").path("float32").path("1x8"));
        assertEquals(5, finished.path("timings").path("float32").path("2x16").path("runs").asInt(), finished.toString());
        assertEquals(List.of("1x8", "2x16"), List.of(finished.path("measured").get(0).asText(), finished.path("measured").get(1).asText()));
        assertEquals("float32", finished.path("winner").path("export").asText());

        // the other objective ranks the same timings: nothing is measured again
        List<String> latency = new ArrayList<>(args);
        latency.addAll(List.of("--objective", "latency"));
        assertEquals(0, cli(new StringWriter(), latency.toArray(String[]::new)));
        JsonNode ranked = JSON.readTree(out.resolve("optimize.json").toFile());
        assertEquals(finished.path("timings"), ranked.path("timings"));
        assertEquals("latency", ranked.path("winner").path("objective").asText());

        StringWriter other = new StringWriter();
        List<String> changed = new ArrayList<>(args);
        changed.set(changed.indexOf("0.005"), "0.5");
        assertEquals(2, cli(other, changed.toArray(String[]::new)));
        assertTrue(other.toString().contains("tolerance was \"0.005\", now \"0.5\"") && other.toString().contains("--fresh"),
                other.toString());
    }

    @Test
    void theWinnerIsTheGatedFileAndScoresAsItsGateDid() throws IOException {
        Path out = dir.resolve("real");
        assertEquals(0, cli(new StringWriter(), optimize(out, "--real-data", "--rounds", "1", "--candidates", "float32,contrib",
                "--workers", "1,2").toArray(String[]::new)));
        JsonNode state = JSON.readTree(out.resolve("optimize.json").toFile());
        JsonNode winner = state.path("winner");
        Path onnx = out.resolve("stsb.onnx");
        assertEquals(state.path("candidates").path(winner.path("export").asText()).path("sha256").asText(), Hashing.sha256(onnx));
        assertTrue(state.path("timings").has(OptimizeCommand.BASELINE), state.path("timings").toString());
        assertEquals(4, state.path("ranking").size(), state.path("ranking").toString());

        Path result = dir.resolve("score.json");
        StringWriter console = new StringWriter();
        assertEquals(0, cli(console, "score", "--model", onnx.toString(), "--task", "sts-b", "--data-dir", GLUE,
                "--output", result.toString()));
        JsonNode scored = JSON.readTree(result.toFile());
        assertEquals(winner.path("workers").asInt(), scored.path("workers").asInt(), console.toString());
        assertTrue(scored.path("run_settings").asText().startsWith("stsb.card.json"), scored.toString());
        assertEquals(state.path("candidates").path(winner.path("export").asText()).path("gate").path("measured").asDouble(),
                scored.path("dev").path("main").asDouble(), 0.0, "score of the winner differs from its gate");
    }

    /** int8 products are ONNX Runtime CPU kernels: a GPU provider is offered half precision instead. */
    @Test
    void eachProviderIsOfferedTheFormsItCanRun() {
        assertEquals(List.of("float32", "contrib", "int8", "contrib-int8", "static-int8", "contrib-static-int8"),
                OptimizeCandidate.forProvider("cpu").stream().map(OptimizeCandidate::name).toList());
        assertEquals(List.of("float32", "contrib", "float16"),
                OptimizeCandidate.forProvider("cuda").stream().map(OptimizeCandidate::name).toList());
        assertEquals(List.of("float32", "float16", "trt-fp16"),
                OptimizeCandidate.forProvider("tensorrt").stream().map(OptimizeCandidate::name).toList());
    }

    @Test
    void whatCannotBeGatedOrTimedIsRefusedWithExit2() {
        StringWriter err = new StringWriter();
        assertEquals(2, cli(err, "optimize", "--model", TESTDATA.resolve("reference/public-tiny").toString(), "--task", "sts-b",
                "--data-dir", GLUE, "--output", dir.resolve("untrained").toString()));
        assertTrue(err.toString().contains("no training-time metric"), err.toString());
        err = new StringWriter();
        assertEquals(2, cli(err, optimize(dir.resolve("long"), "--shapes", "1x4096").toArray(String[]::new)));
        assertTrue(err.toString().contains("--shapes \"1x4096\"") && err.toString().contains("max_position_embeddings"),
                err.toString());
    }

    @Test
    void theCpuTriesPowersOfTwoPassesUpToItsThreads() {
        var cpu = dev.convbert.runtime.score.ExecutionProvider.cpu();
        assertEquals(List.of(1), OptimizeCommand.defaultWorkers(cpu, 1));
        assertEquals(List.of(1, 2), OptimizeCommand.defaultWorkers(cpu, 3));
        assertEquals(List.of(1, 2, 4, 8), OptimizeCommand.defaultWorkers(cpu, 64));
        assertEquals(List.of(1), OptimizeCommand.defaultWorkers(
                dev.convbert.runtime.score.ExecutionProvider.parse("cuda", 0, false, null, null, false), 64));
    }
}
