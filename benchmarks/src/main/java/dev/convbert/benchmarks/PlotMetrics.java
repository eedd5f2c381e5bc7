package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.io.AtomicFiles;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code convbert plot-metrics}: training curves from a metrics.jsonl as a PNG, smoothed over a window of steps. */
@Command(name = "plot-metrics", mixinStandardHelpOptions = true,
        description = {"Plot training curves (one panel per key) from metrics.jsonl.",
                "", "Example:", "  convbert plot-metrics --metrics runs/pretrain/metrics.jsonl --keys mlm_loss,disc_loss --output docs/pretrain-loss.png"})
public final class PlotMetrics implements Callable<Integer> {
    @Option(names = "--metrics", required = true, description = "A run's metrics.jsonl (finetune or pretrain).")
    Path metrics;

    @Option(names = "--keys", split = ",", defaultValue = "loss", description = "Fields to plot against the step (default ${DEFAULT-VALUE}).")
    List<String> keys;

    @Option(names = "--window", defaultValue = "20", description = "Moving-average window in steps (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--title", defaultValue = "training curves", description = "Chart title (default \"${DEFAULT-VALUE}\").")
    String title;

    @Option(names = "--output", required = true, description = "The PNG to write.")
    Path output;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");
        ObjectMapper json = new ObjectMapper();
        Map<String, XYSeries> raw = new LinkedHashMap<>();
        keys.forEach(k -> raw.put(k, new XYSeries(k)));
        for (String line : Files.readAllLines(metrics)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = json.readTree(line);
            for (String k : keys) {
                if (n.has(k) && n.has("step") && n.get(k).isNumber()) {
                    raw.get(k).add(n.get("step").asDouble(), n.get(k).asDouble());
                }
            }
        }
        int panels = keys.size();
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(900, 320 * panels, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        int i = 0;
        for (String k : keys) {
            XYSeries s = raw.get(k);
            XYSeries smooth = new XYSeries(k + " (mean of " + window + " steps)");
            double sum = 0;
            for (int j = 0; j < s.getItemCount(); j++) {
                sum += s.getY(j).doubleValue();
                if (j >= window) {
                    sum -= s.getY(j - window).doubleValue();
                }
                smooth.add(s.getX(j), sum / Math.min(j + 1, window));
            }
            XYSeriesCollection data = new XYSeriesCollection();
            data.addSeries(smooth);
            JFreeChart chart = ChartFactory.createXYLineChart(title + ": " + k, "step", k, data, PlotOrientation.VERTICAL,
                    true, false, false);
            ((NumberAxis) ((XYPlot) chart.getPlot()).getRangeAxis()).setAutoRangeIncludesZero(false);
            chart.draw(g, new java.awt.Rectangle(0, 320 * i, 900, 320));
            i++;
        }
        g.dispose();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeBufferedImageAsPNG(bytes, img);
        AtomicFiles.write(output, out -> out.write(bytes.toByteArray()));
        System.out.println("wrote " + output);
        return ExitCodes.OK;
    }
}
