package dev.convbert.core.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.TestData;
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

class CliTest {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        return ConvBertCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    @Test
    void tokenizeWritesIdsTypesAndTokens(@TempDir Path dir) throws IOException {
        Path in = dir.resolve("in.jsonl");
        Path outFile = dir.resolve("out.jsonl");
        Files.write(in, List.of("{\"text_a\": \"Hello, world!\"}", "{\"text_a\": \"The cat\", \"text_b\": \"sat.\"}",
                "{\"text_a\": \"" + "word ".repeat(300) + "\"}"));
        int code = run("tokenize", "--vocab", TestData.vocab().toString(), "--input", in.toString(), "--output",
                outFile.toString(), "--max-length", "16");
        assertEquals(0, code, err.toString());
        List<String> lines = Files.readAllLines(outFile);
        assertEquals(3, lines.size());
        ObjectMapper m = new ObjectMapper();
        JsonNode first = m.readTree(lines.get(0));
        assertEquals("[101,7592,1010,2088,999,102]", first.get("input_ids").toString());
        assertEquals("[\"[CLS]\",\"hello\",\",\",\"world\",\"!\",\"[SEP]\"]", first.get("tokens").toString());
        JsonNode pair = m.readTree(lines.get(1));
        assertEquals("[0,0,0,0,1,1,1]", pair.get("token_type_ids").toString());
        assertEquals(16, m.readTree(lines.get(2)).get("input_ids").size());
    }

    @Test
    void tokenizeBadLineNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.write(in, List.of("{\"text_a\": \"ok\"}", "{\"text\": \"typo\"}"));
        int code = run("tokenize", "--vocab", TestData.vocab().toString(), "--input", in.toString(), "--output",
                dir.resolve("o.jsonl").toString());
        assertEquals(ExitCodes.INVALID_INPUT, code);
        assertTrue(err.toString().startsWith("error: " + in + ":2: unknown field \"text\""), err.toString());
        assertTrue(Files.notExists(dir.resolve("o.jsonl")), "no partial output");
    }

    @Test
    void glueStatsJsonCountsEverySplitAndMarksMissing(@TempDir Path dir) throws IOException {
        int code = run("glue-stats", "--data-dir", TestData.path("glue").toString(), "--json");
        assertEquals(0, code, err.toString());
        JsonNode j = new ObjectMapper().readTree(out.toString());
        assertEquals(6, j.get("SST-2").get("train").asInt());
        assertEquals(5, j.get("MNLI").get("dev_mismatched").asInt());
        assertEquals(4, j.get("QQP").get("train").asInt());
        assertEquals(6, j.get("AX").get("test").asInt());
        assertEquals(10, j.size());

        out.getBuffer().setLength(0);
        Files.createDirectories(dir.resolve("RTE"));
        Files.copy(TestData.path("glue/RTE/dev.tsv"), dir.resolve("RTE/dev.tsv"));
        assertEquals(0, run("glue-stats", "--data-dir", dir.toString()));
        assertTrue(out.toString().contains("RTE    dev"), out.toString());
        assertTrue(out.toString().contains("missing (29):"), out.toString());
        assertTrue(out.toString().contains("RTE/train.tsv"), out.toString());
    }

    @Test
    void unknownOptionAndMissingDirAreInputErrors() {
        assertEquals(ExitCodes.INVALID_INPUT, run("glue-stats", "--data-dri", "x"));
        assertEquals(ExitCodes.INVALID_INPUT, run("glue-stats", "--data-dir", "/nonexistent/glue"));
        assertTrue(err.toString().contains("/nonexistent/glue: not a directory"), err.toString());
        assertEquals(ExitCodes.INVALID_INPUT, run());
    }
}
