package dev.convbert.benchmarks;

import dev.convbert.core.io.AtomicFiles;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The latency chart (JFreeChart, headless): p50 latency against batch size, one panel per sequence length stacked on
 * a shared batch axis, one line per backend in the same colour in every panel. Log scales on both axes: batch sizes
 * grow ×4 and latencies span three decades.
 */
final class LatencyChart {
    private static final Map<String, Color> COLOURS = Map.of(
            "ort-fused", new Color(0x1f77b4), "ort-inline", new Color(0xff7f0e), "ort-int8", new Color(0x2ca02c),
            "djl", new Color(0xd62728));
    private static final Color OTHER = new Color(0x9467bd);

    private LatencyChart() {}

    record Point(String backend, int seq, int batch, double p50Ms) {}

    static void write(Path png, List<Point> points) throws IOException {
        System.setProperty("java.awt.headless", "true");
        LogAxis batchAxis = new LogAxis("batch size");
        batchAxis.setBase(2);
        batchAxis.setTickUnit(new NumberTickUnit(1));
        batchAxis.setNumberFormatOverride(new DecimalFormat("0"));
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(batchAxis);
        combined.setGap(12);
        TreeSet<String> backends = new TreeSet<>();
        for (int seq : new TreeSet<>(points.stream().map(Point::seq).toList())) {
            Map<String, XYSeries> series = new TreeMap<>();
            for (Point p : points) {
                if (p.seq() == seq) {
                    series.computeIfAbsent(p.backend(), XYSeries::new).add(p.batch(), p.p50Ms());
                    backends.add(p.backend());
                }
            }
            XYSeriesCollection data = new XYSeriesCollection();
            XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
            int i = 0;
            for (XYSeries s : series.values()) {
                data.addSeries(s);
                renderer.setSeriesPaint(i, colour((String) s.getKey()));
                renderer.setSeriesStroke(i, new BasicStroke(2f));
                i++;
            }
            LogAxis latency = new LogAxis("seq " + seq + ": p50 ms");
            latency.setBase(2);
            latency.setTickUnit(new NumberTickUnit(1));
            latency.setNumberFormatOverride(new DecimalFormat("0"));
            latency.setLabelFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
            XYPlot plot = new XYPlot(data, null, latency, renderer);
            plot.setBackgroundPaint(Color.WHITE);
            plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            combined.add(plot, 1);
        }
        LegendItemCollection legend = new LegendItemCollection();
        for (String b : backends) {
            legend.add(new LegendItem(b, colour(b)));
        }
        combined.setFixedLegendItems(legend);
        JFreeChart chart = new JFreeChart("ConvBERT latency by batch size (p50, lower is better)",
                JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeBufferedImageAsPNG(bytes, chart.createBufferedImage(900, 300 + 220 * combined.getSubplots().size()));
        AtomicFiles.write(png, out -> out.write(bytes.toByteArray()));
    }

    private static Paint colour(String backend) {
        return COLOURS.getOrDefault(backend, OTHER);
    }
}
