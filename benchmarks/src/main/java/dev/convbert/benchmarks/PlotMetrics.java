package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.io.AtomicFiles;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convbert plot-metrics}: training curves from a metrics.jsonl as a PNG, one panel per key: the raw points
 * faint under their running mean, a marker where the run was interrupted (and later resumed), the learning rate on a
 * log axis with readable ticks. Without {@code --keys} the curves that say the most about the run's kind: pre-training
 * mlm_loss, disc_loss, disc_accuracy and lr; fine-tuning loss, the dev metric and lr.
 */
@Command(name = "plot-metrics",
        description = "Plot training curves (one panel per key) from metrics.jsonl.",
        footer = "  convbert plot-metrics --metrics runs/pretrain/metrics.jsonl --output docs/pretrain-loss.png")
public final class PlotMetrics implements Callable<Integer> {
    /** The keys plotted when none are given, by what the file holds. */
    static final List<String> PRETRAINING = List.of("mlm_loss", "disc_loss", "disc_accuracy", "lr");
    static final List<String> FINE_TUNING = List.of("loss", "dev", "lr");

    @Option(names = "--metrics", required = true, description = "A run's metrics.jsonl (finetune or pretrain).")
    Path metrics;

    @Option(names = "--keys", split = ",", description = "Fields to plot against the step; 'dev' is the dev split's main "
            + "metric (default: mlm_loss,disc_loss,disc_accuracy,lr for pre-training, loss,dev,lr for fine-tuning).")
    List<String> keys;

    @Option(names = "--window", defaultValue = "20", description = "Running-mean window in steps (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--title", defaultValue = "training curves", description = "Chart title (default \"${DEFAULT-VALUE}\").")
    String title;

    @Option(names = "--output", required = true, description = "The PNG to write.")
    Path output;

    /** One run's curves as read from its metrics.jsonl. */
    record Curves(Map<String, XYSeries> series, List<Double> interruptions) {}

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Curves curves = read(metrics, keys);
        int panels = curves.series().size();
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(900, 320 * panels, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        int i = 0;
        for (var e : curves.series().entrySet()) {
            chart(e.getKey(), e.getValue(), curves.interruptions()).draw(g, new java.awt.Rectangle(0, 320 * i, 900, 320));
            i++;
        }
        g.dispose();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeBufferedImageAsPNG(bytes, img);
        AtomicFiles.write(output, out -> out.write(bytes.toByteArray()));
        System.out.println("wrote " + output + " (" + String.join(", ", curves.series().keySet()) + ")");
        return ExitCodes.OK;
    }

    /** The series of {@code keys} (or the run kind's defaults) and the steps where the run was interrupted. */
    static Curves read(Path file, List<String> keys) throws java.io.IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> records = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                records.add(json.readTree(line));
            }
        }
        List<String> wanted = keys != null && !keys.isEmpty() ? keys
                : records.stream().anyMatch(n -> n.has("mlm_loss")) ? PRETRAINING : FINE_TUNING;
        Map<String, XYSeries> series = new LinkedHashMap<>();
        wanted.forEach(k -> series.put(k, new XYSeries(k)));
        List<Double> interruptions = new ArrayList<>();
        for (JsonNode n : records) {
            if (!n.has("step")) {
                continue;
            }
            double step = n.get("step").asDouble();
            if (n.has("interrupted")) {
                interruptions.add(step);
            }
            for (String k : wanted) {
                if (k.equals("dev") && n.has("eval") && n.path("metrics").isObject()) {
                    // the split's main metric: the first in GLUE's order is what the best checkpoint is chosen by
                    JsonNode first = n.get("metrics").elements().hasNext() ? n.get("metrics").elements().next() : null;
                    if (first != null && first.isNumber()) {
                        series.get(k).add(step, first.asDouble());
                    }
                } else if (n.has(k) && n.get(k).isNumber()) {
                    series.get(k).add(step, n.get(k).asDouble());
                }
            }
        }
        List<String> empty = series.entrySet().stream().filter(e -> e.getValue().isEmpty()).map(Map.Entry::getKey).toList();
        if (empty.size() == series.size()) {
            throw new InvalidInputException(file + ": holds none of " + wanted + "; give --keys with fields it has");
        }
        empty.forEach(series::remove);
        return new Curves(series, interruptions);
    }

    private JFreeChart chart(String key, XYSeries raw, List<Double> interruptions) {
        // the dev metric (a few evaluations) and the schedule's lr are not noise to average: drawn as they are
        if (key.equals("dev") || key.equals("lr")) {
            XYSeriesCollection data = new XYSeriesCollection(raw);
            XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, key.equals("dev"));
            renderer.setSeriesPaint(0, new Color(0x2f5bd3));
            renderer.setSeriesStroke(0, new BasicStroke(2f));
            return finish(key, raw, data, renderer, interruptions);
        }
        XYSeries mean = new XYSeries(key + " (mean of " + window + " steps)");
        double sum = 0;
        for (int j = 0; j < raw.getItemCount(); j++) {
            sum += raw.getY(j).doubleValue();
            if (j >= window) {
                sum -= raw.getY(j - window).doubleValue();
            }
            mean.add(raw.getX(j), sum / Math.min(j + 1, window));
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(mean);
        data.addSeries(raw);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesLinesVisible(0, true);
        renderer.setSeriesShapesVisible(0, false);
        renderer.setSeriesPaint(0, new Color(0x2f5bd3));
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        renderer.setSeriesLinesVisible(1, false);             // the raw points: faint dots under the mean
        renderer.setSeriesShapesVisible(1, true);
        renderer.setSeriesShape(1, new java.awt.geom.Ellipse2D.Double(-1.5, -1.5, 3, 3));
        renderer.setSeriesPaint(1, new Color(0x2f, 0x5b, 0xd3, 60));
        return finish(key, raw, data, renderer, interruptions);
    }

    private JFreeChart finish(String key, XYSeries raw, XYSeriesCollection data, XYLineAndShapeRenderer renderer,
                              List<Double> interruptions) {
        boolean positive = raw.getMinY() > 0;
        ValueAxis y;
        if (key.equals("lr") && positive) {
            LogAxis log = new LogAxis(key);
            log.setNumberFormatOverride(new DecimalFormat("0.#E0"));   // 3E-4, not 0.0003000000
            log.setSmallestValue(raw.getMinY() / 2);
            y = log;
        } else {
            NumberAxis linear = new NumberAxis(key);
            linear.setAutoRangeIncludesZero(false);
            y = linear;
        }
        XYPlot plot = new XYPlot(data, new NumberAxis("step"), y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        for (double step : interruptions) {
            ValueMarker m = new ValueMarker(step, new Color(0xb3261e), new BasicStroke(1.2f));
            m.setLabel("interrupted, resumed");
            m.setLabelPaint(new Color(0xb3261e));
            plot.addDomainMarker(m);
        }
        return new JFreeChart(title + ": " + key, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    }
}
