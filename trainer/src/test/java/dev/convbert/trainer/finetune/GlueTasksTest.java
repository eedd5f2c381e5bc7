package dev.convbert.trainer.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.config.ConvBertConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every task's fine-tuning and submission path on the committed fixtures (MNLI and QQP are not on this machine). */
class GlueTasksTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    @TempDir
    static Path dir;
    static Path config;

    @BeforeAll
    static void writeConfig() throws IOException {
        config = dir.resolve("tiny.json");
        ConvBertConfig.tiny().toBuilder().hiddenSize(16).numHiddenLayers(1).intermediateSize(32).embeddingSize(8)
                .convKernelSize(3).numGroups(1).id2label(List.of("a", "b")).build().write(config);
    }

    static int run(StringWriter err, String... args) {
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cola", "sst-2", "mrpc", "sts-b", "qqp", "mnli", "qnli", "rte", "wnli"})
    void fineTunesEvaluatesAndWritesSubmissions(String task) throws IOException {
        Path out = dir.resolve(task);
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "finetune", "--task", task, "--data-dir", TESTDATA.resolve("glue").toString(), "--config",
                config.toString(), "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output",
                out.toString(), "--max-steps", "2", "--batch-size", "4"), err.toString());
        JsonNode m = new ObjectMapper().readTree(out.resolve("training_metrics.json").toFile());
        assertEquals(task, m.get("task").asText());
        assertTrue(m.get("best").get("value").isNumber());
        if (task.equals("mnli")) {
            List<String> splits = new java.util.ArrayList<>();
            m.get("evaluations").forEach(e -> splits.add(e.get("split").asText()));
            assertTrue(splits.contains("dev_matched") && splits.contains("dev_mismatched"), splits.toString());
        }
        Path sub = dir.resolve("sub-" + task);
        assertEquals(0, run(err, "predict-glue", "--task", task, "--data-dir", TESTDATA.resolve("glue").toString(), "--model",
                out.toString(), "--output", sub.toString()), err.toString());
        try (var files = Files.list(sub)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            List<String> expected = switch (task) {
                case "mnli" -> List.of("AX.tsv", "MNLI-m.tsv", "MNLI-mm.tsv");
                case "sst-2" -> List.of("SST-2.tsv");
                case "sts-b" -> List.of("STS-B.tsv");
                default -> List.of(task.toUpperCase().replace("COLA", "CoLA") + ".tsv");
            };
            assertEquals(expected, names);
        }
    }

    @Test
    void badInputStopsBeforeTraining() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--task", "squad", "--data-dir", TESTDATA.resolve("glue").toString(), "--config",
                config.toString(), "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output",
                dir.resolve("x").toString()));
        assertTrue(err.toString().contains("unknown task \"squad\""), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, run(err, "finetune", "--task", "rte", "--data-dir", dir.toString(), "--config", config.toString(),
                "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output", dir.resolve("y").toString()));
        assertTrue(err.toString().contains("RTE/train.tsv: missing"), err.toString());
        assertTrue(Files.notExists(dir.resolve("y")), "nothing written before the inputs are checked");
        err.getBuffer().setLength(0);
        assertEquals(2, run(err, "finetune", "--task", "rte", "--data-dir", TESTDATA.resolve("glue").toString(), "--output",
                dir.resolve("z").toString(), "--resume", "--config", config.toString(), "--vocab",
                TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString()));
        assertTrue(err.toString().contains("checkpoint.json: missing; nothing to resume from"), err.toString());
    }

    @Test
    void nativeArraysDoNotGrowOverFiftySteps() throws IOException {
        Path out = dir.resolve("leak");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "finetune", "--task", "sst-2", "--data-dir", TESTDATA.resolve("glue").toString(), "--config",
                config.toString(), "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output",
                out.toString(), "--max-steps", "50", "--batch-size", "2", "--eval-every", "25"), err.toString());
        List<Integer> counts = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            if (n.has("native_arrays")) {
                counts.add(n.get("native_arrays").asInt());
            }
        }
        assertEquals(50, counts.size());
        assertEquals(counts.get(1), counts.get(49), "arrays held by the model's manager after step 2 vs step 50: " + counts);
    }
}
