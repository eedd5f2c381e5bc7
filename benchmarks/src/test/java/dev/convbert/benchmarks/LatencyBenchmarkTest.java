package dev.convbert.benchmarks;

import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A misspelt backend is refused before any export or accuracy gate runs. */
class LatencyBenchmarkTest {
    @Test
    void unknownBackendIsRefusedUpFront(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        Path out = dir.resolve("bench");
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(
                "benchmark", "--model", dir.resolve("no-such-model").toString(), "--task", "sst-2",
                "--data-dir", dir.toString(), "--output", out.toString(), "--backends", "ort-fused,ort-int9");
        assertEquals(1, code, err.toString());
        assertTrue(err.toString().contains("unknown backend \"ort-int9\""), err.toString());
        assertTrue(err.toString().contains("ort-int8"), err.toString());
        assertFalse(Files.exists(out), "nothing is written before the backends are known");
    }
}
