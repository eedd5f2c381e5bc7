package dev.convbert.benchmarks;

import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** plot-metrics picks the curves by the run's kind, reads the dev metric from eval records and marks interruptions. */
class PlotMetricsTest {
    @Test
    void defaultCurvesFollowTheRunsKind(@TempDir Path dir) throws Exception {
        Path pretrain = Files.writeString(dir.resolve("pretrain.jsonl"), """
                {"step":1,"loss":45.0,"mlm_loss":10.3,"disc_loss":0.69,"disc_accuracy":0.3,"lr":1e-4}
                {"step":2,"loss":44.0,"mlm_loss":10.2,"disc_loss":0.68,"disc_accuracy":0.5,"lr":2e-4}
                {"step":2,"interrupted":"SIGTERM"}
                {"step":3,"loss":43.0,"mlm_loss":10.1,"disc_loss":0.67,"disc_accuracy":0.6,"lr":3e-4}
                """);
        PlotMetrics.Curves p = PlotMetrics.read(pretrain, null);
        assertEquals(PlotMetrics.PRETRAINING, List.copyOf(p.series().keySet()));
        assertEquals(List.of(2.0), p.interruptions());
        Path finetune = Files.writeString(dir.resolve("finetune.jsonl"), """
                {"step":1,"loss":0.7,"lr":1e-4}
                {"step":2,"loss":0.6,"lr":1e-4}
                {"step":2,"eval":"dev","metrics":{"accuracy":0.81}}
                """);
        PlotMetrics.Curves f = PlotMetrics.read(finetune, null);
        assertEquals(PlotMetrics.FINE_TUNING, List.copyOf(f.series().keySet()));
        assertEquals(0.81, f.series().get("dev").getY(0).doubleValue(), 1e-12);

        Path png = dir.resolve("curves.png");
        StringWriter err = new StringWriter();
        assertEquals(0, ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                .execute("plot-metrics", "--metrics", pretrain.toString(), "--output", png.toString()), err.toString());
        assertTrue(Files.size(png) > 1000);
        assertEquals(2, ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                .execute("plot-metrics", "--metrics", pretrain.toString(), "--keys", "nope", "--output", png.toString()));
        assertTrue(err.toString().contains("holds none of [nope]"), err.toString());
    }
}
