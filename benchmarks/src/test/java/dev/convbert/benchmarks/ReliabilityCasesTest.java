package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every reliability case gets the exit code it must get (the table in docs/RELIABILITY.md comes from the same run). */
class ReliabilityCasesTest {
    @Test
    void everyCaseGetsItsExitCode(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(
                "reliability-cases", "--testdata", System.getProperty("convbert.testdata", "../testdata"),
                "--output", dir.resolve("RELIABILITY.md").toString(), "--work", dir.resolve("work").toString());
        assertEquals(0, code, err.toString());
        JsonNode rows = new ObjectMapper().readTree(dir.resolve("RELIABILITY.json").toFile());
        assertTrue(rows.size() >= 20, "cases: " + rows.size());
        for (JsonNode r : rows) {
            assertEquals(r.get("expected").asInt(), r.get("exit").asInt(), r.toString());
            assertTrue(r.get("exit").asInt() != 4, "no case is 'a bug': " + r);
        }
        assertTrue(rows.toString().contains("model.onnx not written"), "an export that fails leaves no model: " + rows);
    }
}
