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

/** On a machine without a GPU (CI, this project's machines) gpu-check says so, writes its report and exits 0. */
class GpuCheckTest {
    @Test
    void withoutAGpuItReportsSkippedAndSucceeds(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute("gpu-check",
                "--output", dir.toString(), "--testdata", System.getProperty("convbert.testdata", "../testdata"));
        assertEquals(0, code, err.toString());
        JsonNode report = new ObjectMapper().readTree(dir.resolve("gpu-check.json").toFile());
        assertEquals("skipped", report.get("status").asText(), report.toString());
        assertEquals("[CPU]", report.get("onnxruntime_providers").asText());
    }
}
