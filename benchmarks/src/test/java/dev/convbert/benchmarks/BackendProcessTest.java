package dev.convbert.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's worker JVM: answers timed blocks for a model, and a model it cannot open is a clear error. */
@org.junit.jupiter.api.Timeout(120)   // it talks to sockets, threads or processes: never hang the build
class BackendProcessTest {
    static final Path TINY = Path.of(System.getProperty("convbert.testdata", "../testdata")).resolve("tiny-sst2/model.onnx");

    @Test
    void aWorkerTimesBlocksOfBackToBackRuns() throws IOException {
        try (BackendProcess w = BackendProcess.start("ort-fused", TINY, dev.convbert.runtime.score.ExecutionProvider.cpu())) {
            double[] ms = w.block(2, 16, 3, 42);
            assertEquals(3, ms.length);
            for (double m : ms) {
                assertTrue(m > 0 && m < 10_000, "a timed run took " + m + " ms");
            }
            assertEquals(4, w.block(1, 8, 4, 43).length, "the worker serves block after block");
        }
    }

    @Test
    void aModelTheWorkerCannotOpenIsReportedByName(@TempDir Path dir) {
        var e = assertThrows(IOException.class, () -> BackendProcess.start("ort-fused", dir.resolve("missing.onnx"), dev.convbert.runtime.score.ExecutionProvider.cpu()));
        assertTrue(e.getMessage().startsWith("ort-fused: the benchmark worker did not start"), e.getMessage());
    }
}
