package dev.convbert.benchmarks;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The latency chart (JFreeChart, headless): p50 latency against batch size, one line per backend and sequence length. */
final class LatencyChart {
    private LatencyChart() {}

    record Point(String backend, int seq, int batch, double p50Ms) {}

    static void write(Path png, List<Point> points) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Map<String, XYSeries> series = new TreeMap<>();
        for (Point p : points) {
            series.computeIfAbsent(p.backend() + " seq " + p.seq(), XYSeries::new).add(p.batch(), p.p50Ms());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart("ConvBERT latency (p50)", "batch size", "latency (ms)", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("batch size");
        x.setBase(2);
        plot.setDomainAxis(x);
        LogAxis y = new LogAxis("p50 latency (ms, log scale)");
        plot.setRangeAxis(y);
        BufferedImage img = chart.createBufferedImage(1000, 650);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        ChartUtils.writeBufferedImageAsPNG(bytes, img);
        dev.convbert.core.io.AtomicFiles.write(png, out -> out.write(bytes.toByteArray()));
    }
}
