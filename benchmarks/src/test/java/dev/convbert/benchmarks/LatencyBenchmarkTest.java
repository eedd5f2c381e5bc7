package dev.convbert.benchmarks;

import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the benchmark may claim: backends known up front, tails only from enough runs, one ratio statistic, no silent gaps. */
class LatencyBenchmarkTest {
    static LatencyCell cell(String backend, double[] near, double[] far) {
        double[] all = java.util.stream.DoubleStream.concat(Arrays.stream(near), Arrays.stream(far)).sorted().toArray();
        return new LatencyCell(backend, 1, 128, all, near.clone(), far.clone());
    }

    /** p99 of 6 runs was printed (it is the slowest run); sequences/s came from the p50 alone. */
    @Test
    void tailsNeedEnoughRunsAndThroughputCountsEveryRun() {
        LatencyCell six = new LatencyCell("ort-fused", 4, 128, new double[]{10, 10, 10, 10, 10, 70},
                new double[]{10, 10, 10, 10, 10, 70}, new double[0]);
        assertTrue(Double.isNaN(six.percentile(0.99)) && Double.isNaN(six.percentile(0.9)), "too few runs for a tail");
        assertEquals(10, six.percentile(0.5));
        assertEquals(4 * 6 * 1000.0 / 120, six.sequencesPerSecond(), 1e-9, "batch × runs over the total time");
        double[] hundred = new double[100];
        Arrays.fill(hundred, 5);
        hundred[98] = 50;
        hundred[99] = 50;
        assertEquals(50, new LatencyCell("x", 1, 128, hundred, hundred, new double[0]).percentile(0.99));
    }

    /**
     * The fused export is 2× faster in each placement, but ran mostly near while the stand-in ran mostly far: the
     * all-runs ratio (once printed as 0.80× beside "2.14× near, 0.82× far") is left out, the placement ratios kept.
     */
    @Test
    void ratiosAreOneStatisticAndNeverMixPlacements() {
        var fused = cell("ort-fused", new double[]{10, 10, 10, 10, 10, 10, 10, 10}, new double[]{30, 30});
        var standIn = cell("ort-unfused", new double[]{20, 20}, new double[]{60, 60, 60, 60, 60, 60, 60, 60});
        String md = LatencyReport.ratios(List.of(fused, standIn));
        assertTrue(md.contains("| 1 × 128 | ort-fused | ort-unfused | 2.00× | 2.00× | – (different mixes) | 20 % / 80 % |"), md);
        var sameMix = cell("ort-unfused", new double[]{20, 20, 20, 20, 20, 20, 20, 20}, new double[]{60, 60});
        assertTrue(LatencyReport.ratios(List.of(fused, sameMix)).contains("| 2.00× | 2.00× | 2.00× |"));
    }

    @Test
    void aRequestedCellThatWasNotMeasuredIsExit1NamingIt(@TempDir Path dir) {
        var result = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        LatencyBenchmark.requireEveryCellMeasured(result, dir);
        result.withArray("failed_cells").addObject().put("seq", 128).put("batch", 32).put("why", "worker died (exit 137)");
        var e = assertThrows(dev.convbert.core.CommandFailedException.class, () -> LatencyBenchmark.requireEveryCellMeasured(result, dir));
        assertTrue(e.getMessage().contains("1 requested cell not measured: seq 128 batch 32 (worker died (exit 137))"), e.getMessage());
    }

    /** A 100-token vocabulary made every cell fail ("bound must be positive"): ids start above [PAD] there. */
    @Test
    void syntheticIdsFitAnyVocabulary() {
        for (int vocab : new int[]{2, 100, 30522}) {
            long[][] ids = SyntheticIds.batch(4, 64, vocab, 7).inputIds();
            long min = Arrays.stream(ids).flatMapToLong(Arrays::stream).min().orElseThrow();
            long max = Arrays.stream(ids).flatMapToLong(Arrays::stream).max().orElseThrow();
            assertTrue(min >= (vocab > 2000 ? 1000 : 1) && max < vocab, vocab + ": " + min + ".." + max);
        }
    }

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
