package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.cli.GlueOptions;
import dev.convbert.core.io.Progress;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.cli.ProviderOptions;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import picocli.CommandLine;
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
 * {@code convbert benchmark}: latency and throughput of ONNX Runtime (fused export, inline export, int8 export) and
 * DJL eager on the same weights, over batch sizes × sequence lengths, measured in one run: each backend in its own
 * worker JVM, timed in blocks of back-to-back runs (after an idle pause and one untimed run) rotating over the backends,
 * each block tagged with the cores' placement ({@link CoreDistance}). It first runs the dev accuracy gate on the fused
 * export and refuses to report latency for a model that fails it; the int8 export is gated on its own and left out
 * when it fails.
 */
@Command(name = "benchmark",
        description = "Latency/throughput of ORT fused vs ORT inline vs ORT int8 vs DJL eager, gated by the dev accuracy "
                + "check. Writes results.json, results.csv, latency.png and summary.md to --output.",
        footer = "  convbert benchmark --model runs/sst2-ms --task sst-2 --data-dir $GLUE_DIR --output docs/benchmarks")
public final class LatencyBenchmark implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "A fine-tuned model directory (its export is made here).")
    Path model;

    @CommandLine.Mixin
    GlueOptions glue = new GlueOptions();

    @Option(names = "--output", required = true, description = "Directory for the exports it times, results.json, "
            + "results.csv, latency.png and summary.md.")
    Path output;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8,32,128", description = "Batch sizes of the grid (default ${DEFAULT-VALUE}).")
    int[] batchSizes;

    @Option(names = "--seq-lengths", split = ",", defaultValue = "32,128,512", description = "Sequence lengths of the grid, capped by max_position_embeddings (default ${DEFAULT-VALUE}).")
    int[] seqLengths;

    @CommandLine.Mixin
    TimingOptions timing = new TimingOptions();

    @Option(names = "--backends", split = ",", defaultValue = "ort-fused,ort-unfused,ort-int8,djl",
            description = "Any of ort-fused (our export), ort-inline (its function inlined), ort-int8 (with --int8), "
            + "ort-contrib (export --ort-operators: ONNX Runtime's fused contrib operators), ort-contrib-int8 "
            + "(both; the last three gated on their own), ort-unfused (the standard-export stand-in: export "
            + "--unfused --inline --conv-formulation GATHER_UNFOLD) and djl (eager). Default ${DEFAULT-VALUE}.")
    List<String> backends;

    @Option(names = "--real-data", split = ",", description = "Also score these GLUE tasks' dev splits (e.g. sst-2,mrpc,qnli) with the fused export in three "
            + "batchings, same run: dataset order × 32 rows padded to the longest (what HF pipelines do), "
            + "length-sorted × 32, and length-sorted under --real-data-tokens (default: none).")
    List<String> realData = List.of();

    @Option(names = "--real-data-tokens", defaultValue = "4096",
            description = "Padded-token budget per pass of the token-budget batching (default ${DEFAULT-VALUE}).")
    int realDataTokens;

    @Option(names = "--real-data-rounds", defaultValue = "3",
            description = "Passes over each dev split per batching, rotating the order (median reported; default ${DEFAULT-VALUE}).")
    int realDataRounds;

    @Option(names = "--no-grid", description = "Skip the batch × sequence grid (with --real-data: only the real-data benchmark).")
    boolean noGrid;

    @CommandLine.Mixin
    ProviderOptions providerOptions = new ProviderOptions();

    @picocli.CommandLine.Mixin
    dev.convbert.runtime.cli.GateOptions gateOptions = new dev.convbert.runtime.cli.GateOptions();

    @Option(names = "--far-cores-ns", defaultValue = "300",
            description = "A block measured when a cache line's round trip between this process's two threads takes longer "
                    + "counts as 'far' (cores on different L3s; default ${DEFAULT-VALUE} ns, see CoreDistance).")
    double farCoresNs;

    @Option(names = "--max-batch-tokens", defaultValue = "16384",
            description = "Skip cells with more tokens per batch (DJL eager at 128 x 512 needs more memory than 24 GiB holds; default ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        List<String> known = List.of("ort-fused", "ort-inline", "ort-int8", "ort-contrib", "ort-contrib-int8", "ort-unfused", "djl");
        for (String b : backends) {
            if (!known.contains(b)) {
                throw new CommandFailedException("unknown backend \"" + b + "\" in --backends; expected any of " + known);
            }
        }
        Files.createDirectories(output);
        ModelDir md = ModelDir.open(model);
        // TensorRT builds one engine for the whole grid instead of one per new shape
        int maxSeq = Math.min(Arrays.stream(seqLengths).max().orElse(128), md.config().maxPositionEmbeddings());
        int minSeq = Math.min(Arrays.stream(seqLengths).min().orElse(128), maxSeq);
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        int minBatch = Arrays.stream(batchSizes).min().orElse(1);
        int optSeq = Math.max(minSeq, Math.min(128, maxSeq));       // the headline 1 × 128 cell, where it is in the grid
        providerOptions.defaultTrtProfile(minBatch + "x" + minSeq + ":" + minBatch + "x" + optSeq + ":" + maxBatch + "x" + maxSeq);
        GlueTask t = glue.task();
        Path fused = output.resolve("model.onnx");
        Path inline = output.resolve("model-inline.onnx");
        Path int8 = output.resolve("model-int8.onnx");
        Path unfused = output.resolve("model-unfused.onnx");
        Path contrib = output.resolve("model-contrib.onnx");
        Path contribInt8 = output.resolve("model-contrib-int8.onnx");
        new OnnxExporter(md, ExportOptions.defaults()).export(fused);
        if (backends.contains("ort-inline")) {
            new OnnxExporter(md, ExportOptions.builder().inline(true).build()).export(inline);
        }
        if (backends.contains("ort-int8")) {
            new OnnxExporter(md, ExportOptions.defaults().withPrecision(ExportOptions.Precision.INT8)).export(int8);
        }
        if (backends.contains("ort-unfused")) {
            new OnnxExporter(md, ExportOptions.standardLayout()).export(unfused);
        }
        if (backends.contains("ort-contrib")) {
            new OnnxExporter(md, ExportOptions.builder().ortOperators(true).build()).export(contrib);
        }
        if (backends.contains("ort-contrib-int8")) {
            new OnnxExporter(md, ExportOptions.builder().ortOperators(true).precision(ExportOptions.Precision.INT8).build()).export(contribInt8);
        }

        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = mapper.createObjectNode();
        result.put("model", model.toString());
        result.put("parameters", md.config().parameterCount());
        result.put("threads", Runtime.getRuntime().availableProcessors());
        result.put("provider_requested", String.join(" ", ProviderOptions.args(providerOptions.provider())));
        result.set("device", GpuInfo.describe(providerOptions.provider(), mapper));
        result.put("settle_ms", timing.settleMs);
        result.put("far_cores_ns", farCoresNs);
        result.put("malloc_env", System.getenv().getOrDefault("MALLOC_MMAP_THRESHOLD_", "unset") + " / "
                + System.getenv().getOrDefault("MALLOC_TRIM_THRESHOLD_", "unset") + " / LD_PRELOAD="
                + System.getenv().getOrDefault("LD_PRELOAD", ""));

        // the gate runs on the fused export whatever backends are measured; the int8 export has its own
        AccuracyGate gate = gate(fused, md, t, result.putObject("accuracy_gate"));
        if (!gate.applied() || !gate.passed()) {
            AtomicFiles.writeString(output.resolve("results.json"), mapper.writeValueAsString(result) + "\n");
            throw new CommandFailedException("no latency reported: the model " + (gate.applied()
                    ? "fails its accuracy gate" : "carries no training-time metric to gate on (fine-tune it here)"));
        }
        List<String> measured = new ArrayList<>(backends);
        Map<String, Path> sources = new LinkedHashMap<>();
        for (String b : backends) {
            switch (b) {
                case "ort-fused" -> sources.put(b, fused);
                case "ort-inline" -> sources.put(b, inline);
                case "ort-int8" -> sources.put(b, int8);
                case "ort-unfused" -> sources.put(b, unfused);
                case "ort-contrib" -> sources.put(b, contrib);
                case "ort-contrib-int8" -> sources.put(b, contribInt8);
                default -> sources.put(b, model);   // djl
            }
        }
        // exports with other operators or precision answer differently and are gated on their own
        for (String b : List.of("ort-int8", "ort-contrib", "ort-contrib-int8")) {
            String key = "accuracy_gate_" + b.substring("ort-".length()).replace('-', '_');
            if (backends.contains(b) && !gate(sources.get(b), md, t, result.putObject(key)).passed()) {
                System.out.println(b + " not measured: its export fails the accuracy gate");
                measured.remove(b);
                sources.remove(b);
            }
        }
        List<LatencyCell> cells = noGrid ? List.of() : measure(sources, md.config().maxPositionEmbeddings(), result, mapper);
        if (!realData.isEmpty()) {
            realData(fused, sources, md, result, mapper);
        }
        LatencyReport.write(output, result, cells, mapper, new LatencyReport.Setup(model, timing.repeats, farCoresNs));
        System.out.printf(Locale.ROOT, "benchmark: %d cells of %d backends%s measured in %.0f s; wrote %s (results.json, results.csv,"
                + " latency.png, summary.md)%n", cells.size() / Math.max(1, measured.size()), measured.size(),
                realData.isEmpty() ? "" : " and " + realData.size() + " dev splits", (System.nanoTime() - started) / 1e9, output);
        requireEveryCellMeasured(result, output);
        return ExitCodes.OK;
    }

    /**
     * The real-data throughput of the fused export; of the measured int8/contrib exports in sorted passes; and, on the
     * CPU, of the fused and the fastest export with two passes at once on half the threads each (score's default).
     */
    private void realData(Path fused, Map<String, Path> sources, ModelDir md, ObjectNode result, ObjectMapper mapper)
            throws Exception {
        List<GlueTask> tasks = realData.stream().map(GlueTask::fromId).toList();
        ExecutionProvider provider = providerOptions.provider();
        int workers = OrtModel.concurrentPasses(provider);
        List<OrtModel> opened = new ArrayList<>();
        List<RealDataBenchmark.Variant> variants = new ArrayList<>();
        try {
            OrtModel m = OrtModel.open(fused, provider);
            opened.add(m);
            for (String b : List.of("ort-int8", "ort-contrib", "ort-contrib-int8")) {
                if (sources.containsKey(b)) {
                    OrtModel other = OrtModel.open(sources.get(b), provider);
                    opened.add(other);
                    variants.add(new RealDataBenchmark.Variant(b.substring("ort-".length()), other, 1));
                }
            }
            if (workers > 1) {
                // the fused export and the fastest measured one, several passes at once on their share of the threads
                Map<String, Path> sideBySide = new LinkedHashMap<>();
                sideBySide.put(workers + "-workers", fused);
                for (String b : List.of("ort-contrib-int8", "ort-int8")) {
                    if (sources.containsKey(b)) {
                        sideBySide.put(b.substring("ort-".length()) + "-" + workers + "-workers", sources.get(b));
                        break;
                    }
                }
                for (var e : sideBySide.entrySet()) {
                    OrtModel side = OrtModel.open(e.getValue(), provider, null, false, OrtModel.threadsPerPass(OrtModel.threads(), workers));
                    opened.add(side);
                    variants.add(new RealDataBenchmark.Variant(e.getKey(), side, workers));
                }
            }
            result.set("real_data", RealDataBenchmark.run(m, variants, md.vocabFile(), glue.dataDir(), tasks, realDataRounds,
                    realDataTokens, mapper));
        } finally {
            for (OrtModel o : opened) {
                o.close();
            }
        }
    }

    /** The dev accuracy gate on one export, recorded under {@code into}. */
    private AccuracyGate gate(Path onnx, ModelDir md, GlueTask t, ObjectNode into) throws Exception {
        try (OrtModel m = OrtModel.open(onnx, providerOptions.provider())) {
            return ExportGate.run(m, onnx, md.vocabFile(), glue.dataDir(), t, gateOptions, into);
        }
    }

    /**
     * Each backend runs in its own worker JVM ({@link BackendProcess}); blocks rotate over them so all see the same
     * machine load. Within a block a backend runs back to back with warm threads (steady-state latency, as ORT's
     * perf_test and torch's Timer measure), after the previous worker went idle and one untimed run woke its own.
     * A worker that dies (e.g. killed for memory) loses that cell for every backend and is restarted for the next.
     */
    private List<LatencyCell> measure(Map<String, Path> sources, int maxPositions, ObjectNode result, ObjectMapper mapper)
            throws java.io.IOException {
        List<LatencyCell> cells = new ArrayList<>();
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
                    Map<String, List<double[]>> times = new LinkedHashMap<>();   // {ms, core round trip ns}
                    try {
                        for (var e : sources.entrySet()) {
                            if (!workers.containsKey(e.getKey())) {
                                workers.put(e.getKey(), BackendProcess.start(e.getKey(), e.getValue(), providerOptions.provider()));
                            }
                            times.put(e.getKey(), new ArrayList<>());
                        }
                        double spent = 0;
                        int rounds = 0;
                        while (rounds == 0 || spent < timing.minSeconds * workers.size()) {
                            for (BackendProcess w : workers.values()) {
                                Settle.pause(timing.settleMs);
                                double coreNs = CoreDistance.roundTripNs(20_000);
                                for (double ms : w.block(batch, seq, timing.repeats, seed)) {
                                    times.get(w.name()).add(new double[]{ms, coreNs});
                                    spent += ms / 1000;
                                }
                            }
                            if (++rounds * timing.repeats >= timing.maxRuns) {
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
                        LatencyReport.write(output, result, cells, mapper, new LatencyReport.Setup(model, timing.repeats, farCoresNs));
                        continue;
                    }
                    for (var e : times.entrySet()) {
                        List<double[]> runs = e.getValue();
                        double[] ms = runs.stream().mapToDouble(r -> r[0]).sorted().toArray();
                        double[] near = runs.stream().filter(r -> r[1] <= farCoresNs).mapToDouble(r -> r[0]).sorted().toArray();
                        double[] far = runs.stream().filter(r -> r[1] > farCoresNs).mapToDouble(r -> r[0]).sorted().toArray();
                        LatencyCell c = new LatencyCell(e.getKey(), batch, seq, ms, near, far);
                        cells.add(c);
                        System.out.printf(Locale.ROOT, "seq %4d batch %4d %-11s p50 %9.2f ms  p90 %9s  p99 %9s  mean %9.2f  %9.1f seq/s  (near %s / far %s ms, %.0f%% far)%n",
                                seq, batch, c.backend(), c.percentile(0.5), LatencyReport.ms(c.percentile(0.9)), LatencyReport.ms(c.percentile(0.99)), c.mean(),
                                c.sequencesPerSecond(), LatencyReport.ms(LatencyCell.percentile(c.near(), 0.5)), LatencyReport.ms(LatencyCell.percentile(c.far(), 0.5)), 100 * c.farFraction());
                    }
                    progress.step(1);
                    LatencyReport.write(output, result, cells, mapper, new LatencyReport.Setup(model, timing.repeats, farCoresNs));   // after every cell: a crash keeps what was measured
                }
            }
        } finally {
            workers.values().forEach(BackendProcess::close);
        }
        return cells;
    }

    /**
     * Exit 1 when a requested cell could not be measured, naming each and why: a run that measured less than it was
     * asked to is not a result (it was exit 0 with "0 cells of 4 backends measured").
     */
    static void requireEveryCellMeasured(ObjectNode result, Path output) {
        JsonNode failed = result.path("failed_cells");
        if (failed.isEmpty()) {
            return;
        }
        List<String> cells = new ArrayList<>();
        failed.forEach(f -> cells.add("seq " + f.path("seq").asInt() + " batch " + f.path("batch").asInt() + " ("
                + f.path("why").asText() + ")"));
        throw new CommandFailedException(cells.size() + " requested cell" + (cells.size() == 1 ? "" : "s")
                + " not measured: " + String.join("; ", cells) + "; what was measured is in " + output.resolve("results.json"));
    }
}
