package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** What {@code benchmark} leaves: the cells as JSON and CSV, the latency chart, and summary.md with the speed-ups. */
final class LatencyReport {
    private LatencyReport() {}

    /** How the cells were measured, for the summary's first paragraph. */
    record Setup(Path model, int repeats, double farCoresNs) {}

    /** results.json, results.csv, latency.png and summary.md in {@code output}. */
    static void write(Path output, ObjectNode result, List<LatencyCell> cells, ObjectMapper mapper, Setup setup)
            throws IOException {
        ArrayNode rows = result.putArray("cells");
        StringBuilder csv = new StringBuilder("backend,batch,seq,repeats,p50_ms,p90_ms,p99_ms,mean_ms,sequences_per_s,p50_near_ms,p50_far_ms,far_fraction\n");
        for (LatencyCell c : cells) {
            ObjectNode row = rows.addObject().put("backend", c.backend()).put("batch", c.batch()).put("seq", c.seq())
                    .put("repeats", c.ms().length).put("p50_ms", c.percentile(0.5)).put("mean_ms", c.mean())
                    .put("sequences_per_s", c.sequencesPerSecond()).put("far_fraction", c.farFraction());
            // too few runs for a tail, or no run in a placement: null, not NaN (which JSON lacks)
            putOrNull(row, "p90_ms", c.percentile(0.9));
            putOrNull(row, "p99_ms", c.percentile(0.99));
            putOrNull(row, "p50_near_ms", LatencyCell.percentile(c.near(), 0.5));
            putOrNull(row, "p50_far_ms", LatencyCell.percentile(c.far(), 0.5));
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%.3f,%s,%s,%.3f,%.2f,%s,%s,%.3f%n", c.backend(), c.batch(), c.seq(),
                    c.ms().length, c.percentile(0.5), csvMs(c.percentile(0.9)), csvMs(c.percentile(0.99)), c.mean(),
                    c.sequencesPerSecond(), csvMs(LatencyCell.percentile(c.near(), 0.5)), csvMs(LatencyCell.percentile(c.far(), 0.5)), c.farFraction()));
        }
        AtomicFiles.writeString(output.resolve("results.json"), mapper.writeValueAsString(result) + "\n");
        AtomicFiles.writeString(output.resolve("results.csv"), csv.toString());
        LatencyChart.write(output.resolve("latency.png"), cells.stream()
                .map(c -> new LatencyChart.Point(c.backend(), c.seq(), c.batch(), c.percentile(0.5))).toList());
        AtomicFiles.writeString(output.resolve("summary.md"), summary(cells, result, setup));
    }

    private static String summary(List<LatencyCell> cells, ObjectNode result, Setup setup) {
        StringBuilder md = new StringBuilder("# Latency benchmark\n\n");
        md.append("Model `").append(setup.model()).append("` (").append(result.get("parameters").asLong()).append(" parameters), ")
                .append(result.get("threads").asInt()).append(" cores, malloc settings: `")
                .append(result.get("malloc_env").asText()).append("`, ").append(result.get("settle_ms").asInt())
                .append(" ms idle and one untimed run before each block of ").append(setup.repeats())
                .append(" back-to-back timed runs; each backend in its own JVM, blocks rotating over them. Before each block")
                .append(" a cache-line round trip between two threads is timed: blocks above ").append((int) setup.farCoresNs())
                .append(" ns ran on cores with separate L3 caches ('far'; see CoreDistance).\n\n");
        md.append("Accuracy gate: ").append(result.get("accuracy_gate").get("report").asText()).append("\n");
        for (String export : List.of("int8", "contrib", "contrib_int8")) {
            if (result.has("accuracy_gate_" + export)) {
                md.append("\nAccuracy gate (").append(export.replace('_', ' ')).append(" export): ")
                        .append(result.get("accuracy_gate_" + export).get("report").asText()).append("\n");
            }
        }
        md.append("\np90 needs ").append(LatencyCell.runsFor(0.9)).append(" runs and p99 ").append(LatencyCell.runsFor(0.99))
                .append(" (fewer: \"–\", too few runs for a tail); sequences/s is batch × runs over the total time of the runs.\n");
        md.append("\n| seq | batch | backend | p50 ms | p90 ms | p99 ms | mean ms | sequences/s | runs | p50 near ms | p50 far ms | far runs |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (LatencyCell c : cells) {
            md.append(String.format(Locale.ROOT, "| %d | %d | %s | %.2f | %s | %s | %.2f | %.1f | %d | %s | %s | %.0f %% |%n",
                    c.seq(), c.batch(), c.backend(), c.percentile(0.5), ms(c.percentile(0.9)), ms(c.percentile(0.99)), c.mean(),
                    c.sequencesPerSecond(), c.ms().length, ms(LatencyCell.percentile(c.near(), 0.5)), ms(LatencyCell.percentile(c.far(), 0.5)),
                    100 * c.farFraction()));
        }
        md.append(ratios(cells));
        if (result.has("real_data")) {
            md.append(RealDataBenchmark.summary(result.get("real_data")));
        }
        return md.toString();
    }

    /** Within this share of far runs, two cells ran in the same placement mix and their all-runs p50s compare. */
    static final double SAME_MIX = 0.1;

    /**
     * Speed-ups at seq 128 against the stand-in and DJL, each one statistic: the baseline's p50 latency over the
     * backend's (above 1: the backend is faster). Per placement when both ran there; over all runs only when both
     * ran in the same placement mix — otherwise the all-runs p50s mix different shares of slow far runs and their
     * ratio can fall outside both placements' ratios.
     */
    static String ratios(List<LatencyCell> cells) {
        StringBuilder md = new StringBuilder();
        for (String against : List.of("ort-unfused", "djl")) {
            for (int batch : new int[]{1, 32}) {
                LatencyCell base = find(cells, against, batch, 128);
                for (String b : List.of("ort-fused", "ort-inline", "ort-contrib", "ort-int8", "ort-contrib-int8", "djl")) {
                    LatencyCell c = find(cells, b, batch, 128);
                    if (base == null || c == null || b.equals(against)) {
                        continue;
                    }
                    if (md.length() == 0) {
                        md.append("\nSpeed-up = the baseline's p50 latency / the backend's (above 1: the backend is faster), "
                                + "within each core placement; over all runs only where both ran in the same mix of placements "
                                + "(far runs within ").append((int) (100 * SAME_MIX)).append(" points).\n\n")
                                .append("| batch × seq | backend | baseline | speed-up, near | speed-up, far | speed-up, all runs | far runs (backend / baseline) |\n")
                                .append("|---|---|---|---|---|---|---|\n");
                    }
                    boolean sameMix = Math.abs(c.farFraction() - base.farFraction()) <= SAME_MIX;
                    md.append(String.format(Locale.ROOT, "| %d × 128 | %s | %s | %s | %s | %s | %.0f %% / %.0f %% |%n", batch, b, against,
                            times(LatencyCell.percentile(base.near(), 0.5) / LatencyCell.percentile(c.near(), 0.5)),
                            times(LatencyCell.percentile(base.far(), 0.5) / LatencyCell.percentile(c.far(), 0.5)),
                            sameMix ? times(base.percentile(0.5) / c.percentile(0.5)) : "– (different mixes)",
                            100 * c.farFraction(), 100 * base.farFraction()));
                }
            }
        }
        return md.toString();
    }

    private static String csvMs(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    static void putOrNull(ObjectNode row, String field, double v) {
        if (Double.isNaN(v)) {
            row.putNull(field);
        } else {
            row.put(field, v);
        }
    }

    static String ms(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String times(double ratio) {
        return Double.isNaN(ratio) ? "–" : String.format(Locale.ROOT, "%.2f×", ratio);
    }

    private static LatencyCell find(List<LatencyCell> cells, String backend, int batch, int seq) {
        return cells.stream().filter(c -> c.backend().equals(backend) && c.batch() == batch && c.seq() == seq).findFirst().orElse(null);
    }
}
