package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.cli.GlueOptions;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.io.OutputLock;
import dev.convbert.core.io.Progress;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.exporter.onnx.Calibrator;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.Int8Calibration;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.runtime.cli.ProviderOptions;
import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.score.ScoringException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convbert optimize}: every export form × every concurrency setting, each gated on the dev split and timed in
 * one run; the fastest that passes its gate becomes a normal export with its settings in its card, which score, serve
 * and spark-score then use. State is saved after each step: an interrupted run resumes from what it measured.
 */
@Command(name = "optimize",
        description = "Find the fastest export of a fine-tuned model for this machine that still passes the accuracy gate. "
                + "Tries every export form for the provider (on the CPU float32, --ort-operators, dynamic and static "
                + "--int8 and their combinations; on GPUs float32, float16 and TensorRT fp16 engines), each with "
                + "--workers 1 and 2 on the CPU; gates each on the dev split, times the passing ones at --shapes or "
                + "on real dev data, and writes the winner as OUT/NAME.onnx with its sidecars and its settings in its "
                + "card, beside optimize.json, optimize.md and optimize.png. Rerun the same command to resume an "
                + "interrupted run.",
        footer = "  convbert optimize --model runs/sst2 --task sst-2 --data-dir $GLUE_DIR --output runs/sst2-optimized")
public final class OptimizeCommand implements Callable<Integer> {
    static final String STATE = "optimize.json";
    static final String BASELINE = "baseline: float32, file order, 32 padded";
    static final int REAL_DATA_ROWS = 32;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = "--model", required = true, description = "A fine-tuned model directory (with training_metrics.json).")
    Path model;

    @CommandLine.Mixin
    GlueOptions glue = new GlueOptions();

    @Option(names = "--output", required = true, description = "Directory for the winner, its candidates and the report.")
    Path output;

    @Option(names = "--name", description = "The winner's file name without .onnx (default: the task, e.g. sst2).")
    String name;

    @Option(names = "--shapes", split = ",", defaultValue = "1x128,32x128", paramLabel = "BxL",
            description = "Batch × sequence shapes to time at (default ${DEFAULT-VALUE}); ignored with --real-data.")
    List<String> shapes;

    @Option(names = "--real-data", description = "Time by scoring the task's dev split, length-sorted in passes of 32 as "
            + "score runs, instead of at --shapes; also times the dataset-order × 32 padded float32 baseline.")
    boolean realData;

    @Option(names = "--real-data-tasks", split = ",", paramLabel = "TASK", description = "With --real-data: the GLUE dev "
            + "splits to time on (default: --task's). Other tasks' texts only measure speed (e.g. sst-2,mrpc,qnli); the "
            + "gate is always --task's.")
    List<String> realDataTasks;

    @Option(names = "--objective", defaultValue = "throughput", description = "throughput (sequences/s; what score and "
            + "spark-score need) or latency (p50 of one pass, at --shapes; what an interactive server needs). Default ${DEFAULT-VALUE}.")
    String objective;

    @Option(names = "--candidates", split = ",", description = "Only these export forms (default: every one for the "
            + "provider: float32, contrib, int8, contrib-int8, static-int8, contrib-static-int8 on the CPU; float32, "
            + "contrib, float16 on CUDA; float32, float16, trt-fp16 on TensorRT).")
    List<String> only;

    @Option(names = "--workers", split = ",", description = "Passes at once to try with each export, each on threads/N "
            + "intra-op threads (default on the CPU: 1, 2, 4 and 8 up to this process's threads; 1 on a GPU).")
    List<Integer> workers;

    @picocli.CommandLine.Mixin
    dev.convbert.runtime.cli.GateOptions gateOptions = new dev.convbert.runtime.cli.GateOptions();

    @CommandLine.Mixin
    TimingOptions timing = new TimingOptions();

    @Option(names = "--rounds", defaultValue = "3", description = "With --real-data: passes over the dev split per setting, "
            + "order rotating; the median counts (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--fresh", description = "Discard an earlier run's state in --output instead of resuming it.")
    boolean fresh;

    @CommandLine.Mixin
    ProviderOptions providerOptions = new ProviderOptions();

    /** Static int8's activation ranges, measured once per run for the candidates that need them. */
    private Int8Calibration calibration;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        GlueTask t = glue.task();
        ModelDir md = ModelDir.open(model);
        JsonNode tm = md.trainingMetrics();
        if (tm == null || !tm.has("best")) {
            throw new InvalidInputException(model + ": no training-time metric (training_metrics.json); optimize gates every "
                    + "candidate against it: fine-tune with 'convbert finetune', or score exports one by one");
        }
        if (!objective.equals("throughput") && !objective.equals("latency")) {
            throw new InvalidInputException("--objective \"" + objective + "\": expected throughput or latency");
        }
        if (objective.equals("latency") && realData) {
            throw new InvalidInputException("--objective latency goes with --shapes: real data is timed as throughput");
        }
        List<int[]> shapeList = realData ? List.of() : parseShapes(shapes, md.config().maxPositionEmbeddings());
        ExecutionProvider provider = providerOptions.provider();
        int cores = OrtModel.threads();
        List<Integer> workerCounts = workers != null ? workers : defaultWorkers(provider, cores);
        for (int w : workerCounts) {
            if (w < 1 || w > cores) {
                throw new InvalidInputException("--workers " + w + ": expected 1 to " + cores + " (this process's threads)");
            }
        }
        List<OptimizeCandidate> candidates = candidates(provider.name());
        if (!shapeList.isEmpty()) {
            int maxB = shapeList.stream().mapToInt(s -> s[0]).max().getAsInt();
            int maxL = shapeList.stream().mapToInt(s -> s[1]).max().getAsInt();
            providerOptions.defaultTrtProfile("1x8:" + maxB + "x" + maxL + ":" + maxB + "x" + maxL);
        }
        String exportName = name != null ? name : t.id().replace("-", "");
        Files.createDirectories(output);
        // Ctrl-C or SIGTERM: what was saved stays; say how to go on (the worker JVMs end with their input)
        Thread interrupted = new Thread(() -> System.err.println("optimize: interrupted; " + output.resolve(STATE)
                + " keeps every gate and timing finished so far: rerun the same command to resume"));
        Runtime.getRuntime().addShutdownHook(interrupted);
        try (OutputLock lock = OutputLock.acquire(output, "optimize")) {
            OptimizeState state = OptimizeState.open(output, fingerprint(md, t, provider, cores, workerCounts, candidates), fresh);
            List<GlueTask> timedOn = realDataTasks == null ? List.of(t) : realDataTasks.stream().map(GlueTask::fromId).toList();
            int steps = candidates.size() + (realData ? rounds * timedOn.size() : shapeList.size()) + 1;
            try (Progress progress = Progress.start("optimize", steps, "step")) {
                Map<String, Path> exports = new LinkedHashMap<>();
                for (OptimizeCandidate c : candidates) {
                    exports.put(c.name(), exportAndGate(c, md, t, provider, state));
                    progress.step(1);
                }
                List<OptimizeCandidate.Setting> settings = new ArrayList<>();
                for (OptimizeCandidate c : candidates) {
                    if (state.passed(c.name())) {
                        for (int w : workerCounts) {
                            settings.add(new OptimizeCandidate.Setting(c, w, OrtModel.threadsPerPass(cores, w)));
                        }
                    } else {
                        System.out.println(c.name() + ": not timed, never chosen: " + state.gateReport(c.name()));
                    }
                }
                if (settings.isEmpty()) {
                    state.save();
                    throw new CommandFailedException("no candidate passed its accuracy gate (see " + output.resolve(STATE)
                            + "); check the model with 'convbert score', or raise --tolerance knowingly");
                }
                if (realData) {
                    timeOnRealData(settings, exports, md, timedOn, provider, state, progress);
                } else {
                    OptimizeTimer.Limits limits = timing.limits();
                    for (int[] s : shapeList) {
                        String unit = s[0] + "x" + s[1];
                        if (!state.measured(unit)) {
                            state.record(unit, OptimizeTimer.shape(settings, exports, providerOptions, s[0], s[1], limits,
                                    7L + s[0] * 31L + s[1]));
                            state.save();
                        } else {
                            System.out.println(unit + ": measured by the earlier run, kept");
                        }
                        progress.step(1);
                    }
                }
                OptimizeRanking ranking = OptimizeRanking.of(settings, state, objective, realData);
                Path winner = output.resolve(exportName + ".onnx");
                OptimizeCandidate.Setting best = ranking.winner();
                OptimizeReport.publish(exports.get(best.candidate().name()), winner);
                OptimizeReport.recordInCard(winner, best, provider, cores, objective, output.resolve(STATE));
                state.winner(best, winner, ranking);
                state.save();
                OptimizeReport.write(output, state.json(), ranking, exportName);
                progress.step(1);
                System.out.printf(Locale.ROOT, "optimize: %s wins (%s); wrote %s with its settings in %s, and %s, %s, %s "
                                + "(%.0f s)%n", best.name(), ranking.why(best), winner, winner.getFileName().toString()
                                .replace(".onnx", ".card.json"), STATE, OptimizeReport.MARKDOWN, OptimizeReport.CHART,
                        (System.nanoTime() - started) / 1e9);
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(interrupted);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already stopping on a signal: the hook says its line
            }
        }
        return ExitCodes.OK;
    }

    /** The candidate's export and gate: reused from the earlier run when its file is still the one it gated. */
    private Path exportAndGate(OptimizeCandidate c, ModelDir md, GlueTask t, ExecutionProvider provider,
                               OptimizeState state) throws Exception {
        Path onnx = output.resolve("candidates").resolve(c.name() + ".onnx");
        if (state.gated(c.name()) && Files.isRegularFile(onnx) && Hashing.sha256(onnx).equals(state.sha256(c.name()))) {
            System.out.println(c.name() + ": exported and gated by the earlier run, kept (" + state.gateReport(c.name()) + ")");
            return onnx;
        }
        ExportOptions options = c.options();
        if (c.calibrated()) {
            if (calibration == null) {
                calibration = Calibrator.calibrate(md, options, Calibrator.glueSample(md, glue.dataDir(), t,
                        Calibrator.DEFAULT_ROWS, 42), Calibrator.DEFAULT_ROWS + " rows of " + t.glueName() + " train (seed 42)");
            }
            options = options.toBuilder().calibration(calibration).build();
        }
        new OnnxExporter(md, options).export(onnx);
        ExecutionProvider p = c.provider(provider);
        ObjectNode gate = JSON.createObjectNode();
        try (OrtModel m = OrtModel.open(onnx, p)) {
            AccuracyGate g = ExportGate.run(m, onnx, md.vocabFile(), glue.dataDir(), t, gateOptions, gate);
            gate.put("delta", g.delta());
        } catch (ScoringException | CommandFailedException e) {
            // a form this provider cannot run (nodes placed on the CPU, an operator it lacks) fails its gate, not the run
            gate.put("passed", false).put("applied", true).put("report", "does not run on " + p.name() + ": " + e.getMessage());
            System.out.println(c.name() + ": " + gate.get("report").asText());
        }
        state.gate(c, onnx, Hashing.sha256(onnx), gate);
        state.save();
        return onnx;
    }

    /** Rounds over each task's dev split, the settings' order rotating; each round saved as it ends. */
    private void timeOnRealData(List<OptimizeCandidate.Setting> settings, Map<String, Path> exports, ModelDir md,
                                List<GlueTask> tasks, ExecutionProvider provider, OptimizeState state, Progress progress)
            throws Exception {
        BertTokenizer tokenizer = new BertTokenizer(Vocab.read(md.vocabFile()));
        int maxLength = md.maxLength(ScoringModel.DEFAULT_MAX_LENGTH);
        Map<String, Predictor> sessions = new LinkedHashMap<>();
        try {
            for (OptimizeCandidate.Setting s : settings) {
                ExecutionProvider p = s.candidate().provider(provider);
                sessions.put(s.name(), OrtModel.open(exports.get(s.candidate().name()), p, s.threads()));
            }
            Predictor baseline = OrtModel.open(exports.get(OptimizeCandidate.FLOAT32), provider, OrtModel.threads());
            sessions.put(BASELINE, baseline);
            for (GlueTask task : tasks) {
                String split = task.devSplits().get(0).name();
                List<Encoding> rows = BatchRunner.encode(tokenizer, GlueReader.read(glue.dataDir(), task, split), maxLength);
                state.realData(task.glueName(), split, rows.size(), maxLength);
                for (int r = 0; r < rounds; r++) {
                    String unit = task.glueName() + " round " + (r + 1);
                    if (!state.measured(unit)) {
                        List<OptimizeCandidate.Setting> order = new ArrayList<>(settings);
                        java.util.Collections.rotate(order, -r);
                        state.recordRates(unit, OptimizeTimer.realDataRound(order, sessions, rows, baseline, timing.settleMs));
                        state.save();
                    }
                    progress.step(1);
                }
            }
        } finally {
            for (Predictor p : sessions.values()) {
                p.close();
            }
        }
    }

    private List<OptimizeCandidate> candidates(String provider) {
        List<OptimizeCandidate> all = OptimizeCandidate.forProvider(provider);
        if (only == null) {
            return all;
        }
        List<String> known = all.stream().map(OptimizeCandidate::name).toList();
        List<OptimizeCandidate> chosen = new ArrayList<>();
        for (String n : only) {
            if (!known.contains(n)) {
                throw new InvalidInputException("--candidates: unknown \"" + n + "\" for the " + provider + " provider; expected any of " + known);
            }
            chosen.add(all.get(known.indexOf(n)));
        }
        if (realData && chosen.stream().noneMatch(c -> c.name().equals(OptimizeCandidate.FLOAT32))) {
            chosen.add(0, all.get(0));   // the real-data baseline runs the float32 export
        }
        return chosen;
    }

    /** Powers of two up to the threads (at most 8) on the CPU: one pass on every core, and ever more, smaller ones. */
    static List<Integer> defaultWorkers(ExecutionProvider provider, int cores) {
        List<Integer> counts = new ArrayList<>(List.of(1));
        for (int w = 2; provider.name().equals("cpu") && w <= Math.min(cores, 8); w *= 2) {
            counts.add(w);
        }
        return counts;
    }

    static List<int[]> parseShapes(List<String> specs, int maxPositions) {
        List<int[]> out = new ArrayList<>();
        for (String s : specs) {
            String[] bl = s.toLowerCase(Locale.ROOT).split("x");
            int b;
            int l;
            try {
                b = Integer.parseInt(bl[0].trim());
                l = Integer.parseInt(bl[1].trim());
            } catch (RuntimeException e) {
                throw new InvalidInputException("--shapes \"" + s + "\": expected BATCHxLENGTH, e.g. 1x128");
            }
            if (b < 1 || l < 2 || l > maxPositions || bl.length != 2) {
                throw new InvalidInputException("--shapes \"" + s + "\": batch must be >= 1 and length 2 to " + maxPositions
                        + " (the model's max_position_embeddings)");
            }
            out.add(new int[]{b, l});
        }
        return out;
    }

    /** What must match for an earlier run's measurements to be kept. */
    private ObjectNode fingerprint(ModelDir md, GlueTask t, ExecutionProvider provider, int cores, List<Integer> workerCounts,
                                   List<OptimizeCandidate> candidates) throws Exception {
        ObjectNode f = JSON.createObjectNode();
        f.put("weights_sha256", Hashing.sha256(md.weightsFile()));
        f.put("task", t.id());
        f.put("dev_sha256", Hashing.sha256(GlueReader.file(glue.dataDir(), t, t.devSplits().get(0).name())));
        f.put("provider", String.join(" ", ProviderOptions.args(providerOptions.provider())));
        f.put("cores", cores);
        f.set("device", GpuInfo.describe(provider, JSON));
        f.put("measure", realData ? "real data " + (realDataTasks == null ? t.id() : String.join(",", realDataTasks)) + ", "
                + rounds + " rounds" : "shapes " + String.join(",", shapes)
                + ", repeats " + timing.repeats + ", min " + timing.minSeconds + " s, max " + timing.maxRuns + " runs");
        f.put("workers", workerCounts.toString());
        f.put("candidates", candidates.stream().map(OptimizeCandidate::name).toList().toString());
        f.put("tolerance", gateOptions.describe());
        f.put("settle_ms", timing.settleMs);
        return f;
    }
}
