package dev.convbert.runtime.score;

import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ExportFiles;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where score, serve and spark-score take passes at once and threads from: --workers, optimize's card entry, defaults. */
class RunSettingsTest {
    private static Path withCard(Path dir, String sha, String provider, int workers, int threads, int cores) throws IOException {
        Files.createDirectories(dir);
        Path onnx = dir.resolve("m.onnx");
        Files.copy(TinyModel.ONNX, onnx);
        Files.writeString(ExportFiles.card(onnx), "{\"sha256\": \"" + (sha != null ? sha : Hashing.sha256(onnx)) + "\", \""
                + RunSettings.CARD_KEY + "\": {\"provider\": \"" + provider + "\", \"workers\": " + workers
                + ", \"intra_op_threads\": " + threads + ", \"cores\": " + cores + ", \"objective\": \"throughput\"}}");
        return onnx;
    }

    @Test
    void theCardDecidesUnlessWorkersIsGiven(@TempDir Path dir) throws IOException {
        Path onnx = withCard(dir, null, "cpu", 3, 5, 16);
        RunSettings fromCard = RunSettings.resolve(onnx, ExecutionProvider.cpu(), null, 16);
        assertEquals(3, fromCard.workers());
        assertEquals(5, fromCard.threadsPerPass(), "optimize's threads on a machine of as many cores");
        assertTrue(fromCard.source().startsWith("m.card.json (convbert optimize"), fromCard.source());
        assertEquals(2, RunSettings.resolve(onnx, ExecutionProvider.cpu(), null, 6).threadsPerPass(),
                "another machine's cores are split as optimize split them: 6 / 3 workers");
        RunSettings given = RunSettings.resolve(onnx, ExecutionProvider.cpu(), 1, 16);
        assertEquals(1, given.workers());
        assertEquals(16, given.threadsPerPass());
        assertEquals("--workers", given.source());
    }

    @Test
    void aCardForAnotherFileOrProviderIsIgnored(@TempDir Path dir) throws IOException {
        Path stale = withCard(dir.resolve("a"), "0".repeat(64), "cpu", 3, 5, 16);
        assertEquals("default", RunSettings.resolve(stale, ExecutionProvider.cpu(), null, 16).source());
        Path gpu = withCard(dir.resolve("b"), null, "cuda", 3, 5, 16);
        RunSettings cpu = RunSettings.resolve(gpu, ExecutionProvider.cpu(), null, 16);
        assertEquals("default", cpu.source());
        assertEquals(2, cpu.workers());
        assertEquals(8, cpu.threadsPerPass());
    }
}
