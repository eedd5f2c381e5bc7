package dev.convbert.benchmarks;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.reference.ReferenceData;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.trainer.model.TaskModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convbert gpu-check}: what a user runs on a GPU host before trusting the toolchain there. DJL on CUDA against
 * the CPU and the independent reference (forward, and fine-tuning steps with dropout off), the exported models on ONNX
 * Runtime's CUDA and TensorRT providers against the CPU (float32, and float16 finite and close), fp16 mixed-precision
 * fine-tuning against fp32 on CUDA, then batch 1 × 128 and 32 × 128 latency of a medium-small model and its training
 * step's throughput at 32 × 128 and 128 × 128 in fp32 and fp16 — one JSON report. Without a GPU it says so and exits 0.
 */
@Command(name = "gpu-check",
        description = "Check this build on the machine's GPU: DJL on CUDA vs CPU and the reference, ONNX Runtime CUDA and "
                + "TensorRT vs CPU, fp16 training, optimize on CUDA, latency and training throughput; writes gpu-check.json. No GPU: one "
                + "line saying NOT VERIFIED, exit 0 (exit 1 with --require-gpu). Build with -Pcuda first "
                + "(scripts/gpu-check.sh does).",
        footer = "  convbert gpu-check --output runs/gpu-check")
public final class GpuCheck implements Callable<Integer> {
    /** Float32 on a GPU vs the CPU: TF32 and other reduction orders stay well inside this. */
    static final double FLOAT32_TOLERANCE = 1e-3;
    /** Float16 export vs float32 logits. */
    static final double FLOAT16_TOLERANCE = 5e-2;
    /** fp16 mixed-precision fine-tuning vs fp32, per step's loss over 30 steps (MixedPrecisionTest's bound on the CPU). */
    static final double FP16_LOSS_TOLERANCE = 5e-3;
    private static final String[] SETS = {"public-tiny", "public-grouped"};

    @Option(names = "--output", defaultValue = "runs/gpu-check", description = "Directory for the report and the models it builds (default ${DEFAULT-VALUE}).")
    Path output;

    @picocli.CommandLine.Mixin
    TestdataOption testdata = new TestdataOption();

    @Option(names = "--device-id", defaultValue = "0", description = "The GPU to check (default ${DEFAULT-VALUE}).")
    int deviceId;

    @Option(names = "--runs", defaultValue = "50", description = "Timed runs per latency cell (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--require-gpu", description = "Exit 1 when no GPU is found (a CI job on a GPU runner); without it, exit 0.")
    boolean requireGpu;

    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final CheckLog log = new CheckLog();

    @Override
    public Integer call() throws Exception {
        ObjectNode report = json.createObjectNode();
        ExecutionProvider cuda = ExecutionProvider.parse("cuda", deviceId, false, null, null, false);
        report.set("device", GpuInfo.describe(cuda, json));
        int djlGpus = Engine.getInstance().getGpuCount();
        boolean ortCuda = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
        boolean ortTrt = OrtEnvironment.getAvailableProviders().contains(OrtProvider.TENSOR_RT);
        report.put("pytorch", Engine.getInstance().getVersion() + ", " + djlGpus + " GPU(s) visible");
        report.put("onnxruntime_providers", OrtEnvironment.getAvailableProviders().toString());
        Files.createDirectories(output);
        if (djlGpus == 0 && !ortCuda) {
            report.put("status", "skipped");
            report.put("reason", "no GPU: PyTorch sees none and ONNX Runtime has no CUDA provider (a CPU build, or no driver)");
            write(report);
            String line = "no GPU: NOT VERIFIED (" + report.get("pytorch").asText() + "; ONNX Runtime "
                    + report.get("onnxruntime_providers").asText() + "); nothing was checked";
            if (requireGpu) {
                throw new CommandFailedException(line + " and --require-gpu was given");
            }
            System.out.println(line);
            return ExitCodes.OK;
        }
        ArrayNode checks = report.putArray("checks");
        if (djlGpus > deviceId) {
            Device gpu = Device.gpu(deviceId);
            for (String set : SETS) {
                djlForward(set, gpu, checks.addObject());
            }
            GpuTrainingChecks training = new GpuTrainingChecks(output, testdata, deviceId, log);
            training.steps(checks.addObject());
            training.mixedPrecision(checks.addObject());
            training.pretraining(djlGpus, checks);
        } else {
            log.fail(checks.addObject(), "djl", "PyTorch sees " + djlGpus + " GPU(s); build with -Pcuda (pytorch-native-cu124)");
        }
        List<ExecutionProvider> providers = new ArrayList<>();
        if (ortCuda) {
            providers.add(cuda);
        }
        if (ortTrt) {
            providers.add(ExecutionProvider.parse("tensorrt", deviceId, false, output.resolve("trt-cache").toString(), null, false));
            providers.add(ExecutionProvider.parse("tensorrt", deviceId, true, output.resolve("trt-cache").toString(), null, false));
        }
        for (String set : SETS) {
            for (ExecutionProvider p : providers) {
                ortLogits(set, p, false, checks.addObject());
            }
            if (ortCuda) {
                ortLogits(set, cuda, true, checks.addObject());
            }
        }
        if (ortCuda) {
            optimizeOnCuda(checks.addObject());
        }
        latency(report.putObject("latency_medium_small"), djlGpus > deviceId, providers);
        if (djlGpus > deviceId) {
            new GpuTrainingChecks(output, testdata, deviceId, log).throughput(report.putObject("training_medium_small"));
        }
        report.put("status", log.failures().isEmpty() ? "passed" : "failed");
        report.putPOJO("failures", log.failures());
        write(report);
        System.out.println("gpu-check " + report.get("status").asText() + ": " + checks.size() + " checks, report "
                + output.resolve("gpu-check.json") + (log.failures().isEmpty() ? "" : "; failed: " + log.failures()));
        if (!log.failures().isEmpty()) {
            throw new CommandFailedException("gpu-check failed: " + log.failures());
        }
        return ExitCodes.OK;
    }

    /** The reference models' logits on CUDA vs the CPU and vs the independent reference. */
    private void djlForward(String set, Device gpu, ObjectNode check) throws IOException {
        Path dir = testdata.reference(set);
        ReferenceData in = ReferenceData.read(dir);
        float[][] cpu;
        float[][] cuda;
        try (TaskModel m = TaskModel.load(dir, Device.cpu())) {
            cpu = logits(m, in);
        }
        try (TaskModel m = TaskModel.load(dir, gpu)) {
            cuda = logits(m, in);
        }
        double vsCpu = LogitDiff.max(cpu, cuda);
        double vsRef = LogitDiff.max(cuda, in.f64("logits"));
        log.judge(check, "djl-forward " + set, vsCpu <= FLOAT32_TOLERANCE && vsRef <= FLOAT32_TOLERANCE,
                Map.of("logits_max_abs_diff_vs_cpu", vsCpu, "logits_max_abs_diff_vs_reference", vsRef));
    }

    /**
     * {@code convbert optimize --provider cuda} end to end on a tiny SST-2 model fine-tuned here on the CPU: the CUDA
     * candidates (float32, contrib, float16) exported, gated and timed, and the winner's card naming the CUDA provider.
     */
    private void optimizeOnCuda(ObjectNode check) throws IOException {
        String name = "ort-optimize-cuda";
        Path config = output.resolve("optimize-config.json");
        ConvBertConfig.tiny().toBuilder().hiddenSize(64).intermediateSize(128).embeddingSize(32).numGroups(1)
                .hiddenDropoutProb(0).attentionProbsDropoutProb(0).build().write(config);
        Path tuned = output.resolve("optimize-model");
        String glue = testdata.resolve("glue").toString();
        if (!Files.isRegularFile(tuned.resolve(ModelDir.TRAINING_METRICS)) && !log.convbert(check, name, "finetune",
                "--task", "sst-2", "--data-dir", glue, "--config", config.toString(), "--vocab",
                testdata.vocab().toString(), "--output", tuned.toString(),
                "--max-steps", "4", "--batch-size", "4", "--seed", "3")) {
            return;
        }
        Path out = output.resolve("optimize-cuda");
        AtomicFiles.deleteTree(out);
        if (!log.convbert(check, name, "optimize", "--model", tuned.toString(), "--task", "sst-2", "--data-dir", glue,
                "--output", out.toString(), "--provider", "cuda", "--device-id", Integer.toString(deviceId),
                "--shapes", "1x32,8x32", "--min-seconds", "0.3", "--max-runs", "20", "--settle-ms", "20")) {
            return;
        }
        JsonNode state = json.readTree(out.resolve(OptimizeCommand.STATE).toFile());
        JsonNode card = json.readTree(out.resolve("sst2.card.json").toFile());
        boolean float32 = state.path("candidates").path(OptimizeCandidate.FLOAT32).path("gate").path("passed").asBoolean();
        check.put("winner", state.path("winner").path("setting").asText());
        check.put("gates", state.path("candidates").toString());
        log.judge(check, name, float32 && card.path("run_settings").path("provider").asText().equals("cuda"),
                Map.of("candidates", (double) state.path("candidates").size(),
                        "winner_speed_up", state.path("ranking").path(0).path("speed_up").asDouble(Double.NaN)));
    }

    /**
     * A reference model exported (float32, float16 for fp16 engines, or with ONNX Runtime's contrib operators) and run
     * on {@code provider} vs the CPU.
     */
    private void ortLogits(String set, ExecutionProvider provider, boolean contrib, ObjectNode check) throws IOException {
        Path dir = testdata.reference(set);
        ReferenceData in = ReferenceData.read(dir);
        boolean half = provider.trtFp16();
        String variant = half ? "-fp16" : contrib ? "-contrib" : "";
        Path onnx = output.resolve(set + variant + ".onnx");
        if (!Files.isRegularFile(onnx)) {
            ExportOptions options = ExportOptions.builder().ortOperators(contrib).build();
            new OnnxExporter(ModelDir.open(dir), half ? options.withPrecision(ExportOptions.Precision.FLOAT16) : options).export(onnx);
        }
        String name = "ort " + provider.name() + variant.replace('-', ' ') + " " + set;
        try (OrtModel cpu = OrtModel.open(onnx, ExecutionProvider.cpu());
             OrtModel gpu = OrtModel.open(onnx, provider)) {
            float[][] a = logits(cpu, in);
            float[][] b = logits(gpu, in);
            boolean finite = Arrays.stream(b).allMatch(r -> {
                for (float v : r) {
                    if (!Float.isFinite(v)) {
                        return false;
                    }
                }
                return true;
            });
            double d = LogitDiff.max(a, b);
            check.put("provider", gpu.provider());
            gpu.placement().ifPresent(v -> check.put("placement", v.summary()));
            log.judge(check, name, finite && d <= (half ? FLOAT16_TOLERANCE : FLOAT32_TOLERANCE),
                    Map.of("logits_max_abs_diff_vs_cpu", d, "finite", finite ? 1.0 : 0.0));
        } catch (RuntimeException e) {
            log.fail(check, name, e.getMessage());
        }
    }

    /** Median latency of a random medium-small model at 1 × 128 and 32 × 128: DJL on CUDA and each ORT provider. */
    private void latency(ObjectNode into, boolean djl, List<ExecutionProvider> providers) throws IOException {
        Path dir = output.resolve("medium-small");
        if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) {
            try (TaskModel m = TaskModel.initialise(ConvBertConfig.mediumSmall(), Device.cpu(), 1)) {
                m.save(dir, null);
            }
        }
        Path onnx = output.resolve("medium-small.onnx");
        Path onnx16 = output.resolve("medium-small-fp16.onnx");
        Path contrib = output.resolve("medium-small-contrib.onnx");
        if (!Files.isRegularFile(onnx)) {
            new OnnxExporter(ModelDir.open(dir), ExportOptions.defaults()).export(onnx);
            new OnnxExporter(ModelDir.open(dir), ExportOptions.defaults().withPrecision(ExportOptions.Precision.FLOAT16)).export(onnx16);
            new OnnxExporter(ModelDir.open(dir), ExportOptions.builder().ortOperators(true).build()).export(contrib);
        }
        if (djl) {
            try (TaskModel m = TaskModel.load(dir, Device.gpu(deviceId))) {
                time(into.putObject("djl cuda"), m);
            }
        }
        for (ExecutionProvider p : providers) {
            // the contrib operators are ONNX Runtime's own: TensorRT would hand them back to CUDA, so CUDA times them
            for (Path model : p.name().equals("cuda") ? List.of(onnx, onnx16, contrib) : List.of(onnx, onnx16)) {
                String label = "ort " + p.name() + (p.trtFp16() ? " fp16-engine" : "") + " " + model.getFileName();
                try (OrtModel m = OrtModel.open(model, p)) {
                    time(into.putObject(label), m);
                } catch (RuntimeException e) {
                    into.put(label, "failed: " + e.getMessage());
                }
            }
        }
    }

    private void time(ObjectNode into, Predictor p) {
        for (int[] cell : new int[][]{{1, 128}, {32, 128}}) {
            long[][] ids = new long[cell[0]][cell[1]];
            long[][] mask = new long[cell[0]][cell[1]];
            for (long[] row : ids) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = 1000 + (j * 7919L) % 29000;
                }
            }
            for (long[] row : mask) {
                Arrays.fill(row, 1);
            }
            long[][] types = new long[cell[0]][cell[1]];
            for (int i = 0; i < 5; i++) {
                p.run(ids, types, mask, false);      // warm-up: engines, autotuning, allocator
            }
            double[] ms = new double[runs];
            for (int i = 0; i < runs; i++) {
                long start = System.nanoTime();
                p.run(ids, types, mask, false);
                ms[i] = (System.nanoTime() - start) / 1e6;
            }
            Arrays.sort(ms);
            ObjectNode c = into.putObject(cell[0] + "x" + cell[1]);
            c.put("p50_ms", ms[runs / 2]);
            c.put("p90_ms", ms[(int) (runs * 0.9)]);
            c.put("sequences_per_s", cell[0] * 1000.0 / ms[runs / 2]);
        }
    }

    private void write(ObjectNode report) throws IOException {
        AtomicFiles.writeString(output.resolve("gpu-check.json"), json.writeValueAsString(report) + "\n");
    }

    private static float[][] logits(Predictor p, ReferenceData in) {
        return p.run(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), false).logits();
    }
}
