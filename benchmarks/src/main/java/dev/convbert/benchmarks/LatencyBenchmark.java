package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.cli.CommandFailedException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.cli.Progress;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.GlueScorer;
import dev.convbert.runtime.score.OrtModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convbert benchmark}: latency and throughput of ONNX Runtime (fused export), ONNX Runtime (inline export) and
 * DJL eager on the same weights, over batch sizes × sequence lengths, measured in one run: each backend in its own
 * worker JVM, timed in blocks of back-to-back runs (after an idle pause and one untimed run) rotating over the backends.
 * It first runs the dev accuracy gate on the fused export and refuses to report latency for a model that fails it.
 */
@Command(name = "benchmark", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Latency/throughput of ORT fused vs ORT inline vs DJL eager, gated by the dev accuracy check.",
                "Writes results.json, results.csv, latency.png and summary.md to --output.",
                "", "Example:", "  convbert benchmark --model runs/sst2-ms --task sst-2 --data-dir $GLUE_DIR --output docs/benchmarks"})
public final class LatencyBenchmark implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "A fine-tuned model directory (its export is made here).")
    Path model;

    @Option(names = "--task", required = true, description = "The task the model was fine-tuned on (for the accuracy gate).")
    String task;

    @Option(names = "--data-dir", required = true, description = "GLUE data (the task's dev split).")
    Path dataDir;

    @Option(names = "--output", required = true, description = "Output directory.")
    Path output;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8,32,128")
    int[] batchSizes;

    @Option(names = "--seq-lengths", split = ",", defaultValue = "32,128,512", description = "Capped by max_position_embeddings.")
    int[] seqLengths;

    @Option(names = "--repeats", defaultValue = "5",
            description = "Timed back-to-back runs per backend per block (default ${DEFAULT-VALUE}); blocks repeat until --min-seconds.")
    int repeats;

    @Option(names = "--min-seconds", defaultValue = "1.0", description = "Keep repeating a cell until this much time is measured.")
    double minSeconds;

    @Option(names = "--settle-ms", defaultValue = Settle.DEFAULT_MS,
            description = "Idle time before each timed run (default ${DEFAULT-VALUE}): ORT's and PyTorch's worker threads keep "
                    + "spinning after a run and would slow whichever backend runs next.")
    int settleMs;

    @Option(names = "--backends", split = ",", defaultValue = "ort-fused,ort-inline,djl")
    List<String> backends;

    @Option(names = "--tolerance", description = "Accuracy-gate tolerance (default 0.001).")
    Double tolerance;

    @Option(names = "--max-batch-tokens", defaultValue = "16384",
            description = "Skip cells with more tokens per batch (DJL eager at 128 x 512 needs more memory than 24 GiB holds; default ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    record Cell(String backend, int batch, int seq, double[] ms) {
        double percentile(double p) {
            return ms[(int) Math.round(p * (ms.length - 1))];
        }

        double mean() {
            return Arrays.stream(ms).average().orElse(Double.NaN);
        }

        double sequencesPerSecond() {
            return batch * 1000.0 / percentile(0.5);
        }
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(output);
        ModelDir md = ModelDir.open(model);
        GlueTask t = GlueTask.fromId(task);
        Path fused = output.resolve("model.onnx");
        Path inline = output.resolve("model-inline.onnx");
        new OnnxExporter(md, ExportOptions.defaults()).export(fused);
        new OnnxExporter(md, new ExportOptions(ExportOptions.Precision.FLOAT32, true, false, ExportOptions.defaults().formulation())).export(inline);

        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = mapper.createObjectNode();
        result.put("model", model.toString());
        result.put("parameters", md.config().parameterCount());
        result.put("threads", Runtime.getRuntime().availableProcessors());
        result.put("settle_ms", settleMs);
        result.put("malloc_env", System.getenv().getOrDefault("MALLOC_MMAP_THRESHOLD_", "unset") + " / "
                + System.getenv().getOrDefault("MALLOC_TRIM_THRESHOLD_", "unset") + " / LD_PRELOAD="
                + System.getenv().getOrDefault("LD_PRELOAD", ""));

        // the gate runs on the fused export whatever backends are measured
        try (OrtModel gateModel = OrtModel.open(fused, ExecutionProvider.cpu())) {
            Path vocab = md.vocabFile();
            GlueScorer.Scored scored = GlueScorer.predict(gateModel, vocab, dataDir, t, t.devSplits().get(0).name(), 32, 128, true);
            AccuracyGate gate = AccuracyGate.of(gateModel, scored.score(), tolerance != null ? tolerance : AccuracyGate.defaultTolerance(gateModel));
            System.out.println("accuracy gate: " + gate.report());
            ObjectNode g = result.putObject("accuracy_gate");
            g.put("report", gate.report());
            g.put("applied", gate.applied());
            g.put("passed", gate.passed());
            g.put("measured", gate.measured());
            if (!gate.applied() || !gate.passed()) {
                AtomicFiles.writeString(output.resolve("results.json"), mapper.writeValueAsString(result) + "\n");
                throw new CommandFailedException("no latency reported: the model " + (gate.applied()
                        ? "fails its accuracy gate" : "carries no training-time metric to gate on (fine-tune it here)"));
            }
        }
        Map<String, Path> sources = new LinkedHashMap<>();
        for (String b : backends) {
            switch (b) {
                case "ort-fused" -> sources.put(b, fused);
                case "ort-inline" -> sources.put(b, inline);
                case "djl" -> sources.put(b, model);
                default -> throw new CommandFailedException("unknown backend \"" + b + "\"; expected ort-fused, ort-inline or djl");
            }
        }
        List<Cell> cells = measure(sources, md.config().maxPositionEmbeddings(), result, mapper);
        write(result, cells, mapper);
        return ExitCodes.OK;
    }

    /**
     * Each backend runs in its own worker JVM ({@link BackendProcess}); blocks rotate over them so all see the same
     * machine load. Within a block a backend runs back to back with warm threads (steady-state latency, as ORT's
     * perf_test and torch's Timer measure), after the previous worker went idle and one untimed run woke its own.
     * A worker that dies (e.g. killed for memory) loses that cell for every backend and is restarted for the next.
     */
    private List<Cell> measure(Map<String, Path> sources, int maxPositions, ObjectNode result, ObjectMapper mapper)
            throws java.io.IOException {
        List<Cell> cells = new ArrayList<>();
        Map<String, BackendProcess> workers = new LinkedHashMap<>();
        long seed = 7;
        int total = 0;
        for (int s : seqLengths) {
            if (s <= maxPositions) {
                total += batchSizes.length;
            }
        }
        try (Progress progress = Progress.start("benchmark", total, "cell")) {
            for (int seq : seqLengths) {
                if (seq > maxPositions) {
                    System.out.println("seq " + seq + " skipped: max_position_embeddings is " + maxPositions);
                    continue;
                }
                for (int batch : batchSizes) {
                    seed++;
                    if ((long) batch * seq > maxBatchTokens) {
                        System.out.printf("seq %d batch %d skipped: %d tokens per batch exceeds --max-batch-tokens %d%n",
                                seq, batch, batch * seq, maxBatchTokens);
                        progress.step(1);
                        continue;
                    }
                    Map<String, List<Double>> times = new LinkedHashMap<>();
                    try {
                        for (var e : sources.entrySet()) {
                            if (!workers.containsKey(e.getKey())) {
                                workers.put(e.getKey(), BackendProcess.start(e.getKey(), e.getValue()));
                            }
                            times.put(e.getKey(), new ArrayList<>());
                        }
                        double spent = 0;
                        int rounds = 0;
                        while (rounds == 0 || spent < minSeconds * workers.size()) {
                            for (BackendProcess w : workers.values()) {
                                Settle.pause(settleMs);
                                for (double ms : w.block(batch, seq, repeats, seed)) {
                                    times.get(w.name()).add(ms);
                                    spent += ms / 1000;
                                }
                            }
                            if (++rounds * repeats >= 60) {
                                break;
                            }
                        }
                    } catch (java.io.IOException failed) {
                        System.out.printf("seq %d batch %d not measured: %s%n", seq, batch, failed.getMessage());
                        result.withArray("failed_cells").addObject().put("seq", seq).put("batch", batch)
                                .put("why", failed.getMessage());
                        workers.values().forEach(BackendProcess::close);
                        workers.clear();
                        progress.step(1);
                        write(result, cells, mapper);
                        continue;
                    }
                    for (var e : times.entrySet()) {
                        double[] ms = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
                        Cell c = new Cell(e.getKey(), batch, seq, ms);
                        cells.add(c);
                        System.out.printf(Locale.ROOT, "seq %4d batch %4d %-11s p50 %9.2f ms  p90 %9.2f  p99 %9.2f  mean %9.2f  %9.1f seq/s%n",
                                seq, batch, c.backend(), c.percentile(0.5), c.percentile(0.9), c.percentile(0.99), c.mean(),
                                c.sequencesPerSecond());
                    }
                    progress.step(1);
                    write(result, cells, mapper);   // after every cell: a crash keeps what was measured
                }
            }
        } finally {
            workers.values().forEach(BackendProcess::close);
        }
        return cells;
    }

    private void write(ObjectNode result, List<Cell> cells, ObjectMapper mapper) throws java.io.IOException {
        ArrayNode rows = result.putArray("cells");
        StringBuilder csv = new StringBuilder("backend,batch,seq,repeats,p50_ms,p90_ms,p99_ms,mean_ms,sequences_per_s\n");
        for (Cell c : cells) {
            rows.addObject().put("backend", c.backend()).put("batch", c.batch()).put("seq", c.seq())
                    .put("repeats", c.ms().length).put("p50_ms", c.percentile(0.5)).put("p90_ms", c.percentile(0.9))
                    .put("p99_ms", c.percentile(0.99)).put("mean_ms", c.mean()).put("sequences_per_s", c.sequencesPerSecond());
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.2f%n", c.backend(), c.batch(), c.seq(),
                    c.ms().length, c.percentile(0.5), c.percentile(0.9), c.percentile(0.99), c.mean(), c.sequencesPerSecond()));
        }
        AtomicFiles.writeString(output.resolve("results.json"), mapper.writeValueAsString(result) + "\n");
        AtomicFiles.writeString(output.resolve("results.csv"), csv.toString());
        LatencyChart.write(output.resolve("latency.png"), cells.stream()
                .map(c -> new LatencyChart.Point(c.backend(), c.seq(), c.batch(), c.percentile(0.5))).toList());
        AtomicFiles.writeString(output.resolve("summary.md"), summary(cells, result));
        System.out.println("wrote " + output.resolve("results.json") + ", results.csv, latency.png, summary.md");
    }

    private String summary(List<Cell> cells, ObjectNode result) {
        StringBuilder md = new StringBuilder("# Latency benchmark\n\n");
        md.append("Model `").append(model).append("` (").append(result.get("parameters").asLong()).append(" parameters), ")
                .append(result.get("threads").asInt()).append(" cores, malloc settings: `")
                .append(result.get("malloc_env").asText()).append("`, ").append(result.get("settle_ms").asInt())
                .append(" ms idle and one untimed run before each block of ").append(repeats)
                .append(" back-to-back timed runs; each backend in its own JVM, blocks rotating over them.\n\n");
        md.append("Accuracy gate: ").append(result.get("accuracy_gate").get("report").asText()).append("\n\n");
        md.append("| seq | batch | backend | p50 ms | p90 ms | p99 ms | mean ms | sequences/s | repeats |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Cell c : cells) {
            md.append(String.format(Locale.ROOT, "| %d | %d | %s | %.2f | %.2f | %.2f | %.2f | %.1f | %d |%n", c.seq(), c.batch(),
                    c.backend(), c.percentile(0.5), c.percentile(0.9), c.percentile(0.99), c.mean(), c.sequencesPerSecond(), c.ms().length));
        }
        Cell fused = find(cells, "ort-fused", 1, 128);
        Cell djl = find(cells, "djl", 1, 128);
        if (fused != null && djl != null) {
            md.append(String.format(Locale.ROOT, "%nAt batch 1 × seq 128, ORT fused runs %.2f× the sequences/s of DJL eager.%n",
                    fused.sequencesPerSecond() / djl.sequencesPerSecond()));
        }
        return md.toString();
    }

    private static Cell find(List<Cell> cells, String backend, int batch, int seq) {
        return cells.stream().filter(c -> c.backend().equals(backend) && c.batch() == batch && c.seq() == seq).findFirst().orElse(null);
    }
}
