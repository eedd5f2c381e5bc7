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
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.reference.ReferenceData;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.trainer.model.TaskModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convbert gpu-check}: what a user runs on a GPU host before trusting the toolchain there. DJL on CUDA against
 * the CPU and the independent reference (forward, and fine-tuning steps with dropout off), the exported models on ONNX
 * Runtime's CUDA and TensorRT providers against the CPU (float32, and float16 finite and close), fp16 mixed-precision
 * fine-tuning against fp32 on CUDA, then batch 1 × 128 and 32 × 128 latency of a medium-small model and its training
 * step's throughput at 32 × 128 and 128 × 128 in fp32 and fp16 — one JSON report. Without a GPU it says so and exits 0.
 */
@Command(name = "gpu-check", mixinStandardHelpOptions = true,
        description = {"Check this build on the machine's GPU: DJL on CUDA vs CPU and the reference, ONNX Runtime CUDA and",
                "TensorRT vs CPU, fp16 training, latency and training throughput; writes gpu-check.json.",
                "No GPU: one line saying NOT VERIFIED, exit 0 (exit 1 with --require-gpu).",
                "Build with -Pcuda first (scripts/gpu-check.sh does).",
                "", "Example:", "  convbert gpu-check --output runs/gpu-check"})
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

    @Option(names = "--testdata", defaultValue = "testdata", description = "The repository's testdata/ (default ${DEFAULT-VALUE}).")
    Path testdata;

    @Option(names = "--device-id", defaultValue = "0", description = "The GPU to check (default ${DEFAULT-VALUE}).")
    int deviceId;

    @Option(names = "--runs", defaultValue = "50", description = "Timed runs per latency cell (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--require-gpu", description = "Exit 1 when no GPU is found (a CI job on a GPU runner); without it, exit 0.")
    boolean requireGpu;

    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final List<String> failures = new ArrayList<>();

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
            djlTrainingSteps(checks.addObject());
            djlMixedPrecision(checks.addObject());
            djlPretraining(djlGpus, checks);
        } else {
            fail(checks.addObject(), "djl", "PyTorch sees " + djlGpus + " GPU(s); build with -Pcuda (pytorch-native-cu124)");
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
        latency(report.putObject("latency_medium_small"), djlGpus > deviceId, providers);
        if (djlGpus > deviceId) {
            trainingThroughput(report.putObject("training_medium_small"));
        }
        report.put("status", failures.isEmpty() ? "passed" : "failed");
        report.putPOJO("failures", failures);
        write(report);
        System.out.println("gpu-check " + report.get("status").asText() + ": " + checks.size() + " checks, report "
                + output.resolve("gpu-check.json") + (failures.isEmpty() ? "" : "; failed: " + failures));
        if (!failures.isEmpty()) {
            throw new CommandFailedException("gpu-check failed: " + failures);
        }
        return ExitCodes.OK;
    }

    /** The reference models' logits on CUDA vs the CPU and vs the independent reference. */
    private void djlForward(String set, Device gpu, ObjectNode check) throws IOException {
        Path dir = testdata.resolve("reference").resolve(set);
        ReferenceData in = ReferenceData.read(dir);
        float[][] cpu;
        float[][] cuda;
        try (TaskModel m = TaskModel.load(dir, Device.cpu())) {
            cpu = logits(m, in);
        }
        try (TaskModel m = TaskModel.load(dir, gpu)) {
            cuda = logits(m, in);
        }
        double vsCpu = maxDiff(cpu, cuda);
        double vsRef = maxDiff(cuda, in.f64("logits"));
        judge(check, "djl-forward " + set, vsCpu <= FLOAT32_TOLERANCE && vsRef <= FLOAT32_TOLERANCE,
                Map.of("logits_max_abs_diff_vs_cpu", vsCpu, "logits_max_abs_diff_vs_reference", vsRef));
    }

    /** Two fine-tuning steps from the same initialisation, dropout off, on the CPU and on CUDA: the weights must agree. */
    private void djlTrainingSteps(ObjectNode check) throws IOException {
        ConvBertConfig c = ConvBertConfig.tiny().toBuilder().hiddenSize(64).intermediateSize(128).embeddingSize(32)
                .convKernelSize(9).numGroups(1).hiddenDropoutProb(0).attentionProbsDropoutProb(0).classifierDropout(0.0).build();
        Path config = output.resolve("train-step-config.json");
        c.write(config);
        double max = 0;
        Map<String, SafeTensor> cpu = null;
        for (String device : new String[]{"cpu", "gpu:" + deviceId}) {
            Path out = output.resolve("train-step-" + device.replace(':', '-'));
            AtomicFiles.deleteTree(out);
            if (!convbert(check, "djl-train-steps", "finetune",
                    "--task", "sst-2", "--data-dir", testdata.resolve("glue").toString(), "--config", config.toString(),
                    "--vocab", testdata.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output", out.toString(),
                    "--max-steps", "2", "--batch-size", "4", "--seed", "3", "--device", device)) {
                return;
            }
            Map<String, SafeTensor> weights = Safetensors.read(out.resolve(ModelDir.WEIGHTS)).tensors();
            if (cpu == null) {
                cpu = weights;
                continue;
            }
            for (SafeTensor t : weights.values()) {
                float[] a = cpu.get(t.name()).toFloats();
                float[] b = t.toFloats();
                for (int i = 0; i < a.length; i++) {
                    max = Math.max(max, Math.abs(a[i] - b[i]));
                }
            }
        }
        judge(check, "djl-train-steps", max <= FLOAT32_TOLERANCE, Map.of("weights_max_abs_diff_vs_cpu", max));
    }

    /**
     * Fine-tuning on CUDA in fp16 (fp32 masters, dynamic loss scale) against fp32 on CUDA, same seed and data, 30 steps:
     * every step's loss within {@link #FP16_LOSS_TOLERANCE} (what the CPU test shows: 1.3e-4), no step skipped.
     */
    private void djlMixedPrecision(ObjectNode check) throws IOException {
        Path config = output.resolve("train-step-config.json");
        String gpu = "gpu:" + deviceId;
        List<List<JsonNode>> runs = new ArrayList<>();
        for (String precision : new String[]{"fp32", "fp16"}) {
            Path out = output.resolve("train-" + precision + "-" + gpu.replace(':', '-'));
            AtomicFiles.deleteTree(out);
            if (!convbert(check, "djl-train-fp16-vs-fp32", "finetune", "--task", "sst-2", "--data-dir",
                    testdata.resolve("glue").toString(), "--config", config.toString(), "--vocab",
                    testdata.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output", out.toString(),
                    "--max-steps", "30", "--batch-size", "4", "--seed", "3", "--lr", "1e-3", "--device", gpu,
                    "--precision", precision)) {
                return;
            }
            List<JsonNode> rows = new ArrayList<>();
            for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
                JsonNode row = json.readTree(line);
                if (row.has("grad_norm")) {
                    rows.add(row);
                }
            }
            runs.add(rows);
        }
        double max = 0;
        long skipped = 0;
        for (int i = 0; i < Math.min(runs.get(0).size(), runs.get(1).size()); i++) {
            max = Math.max(max, Math.abs(runs.get(0).get(i).get("loss").asDouble() - runs.get(1).get(i).get("loss").asDouble()));
            skipped = runs.get(1).get(i).path("skipped_steps").asLong();
        }
        judge(check, "djl-train-fp16-vs-fp32", runs.get(1).size() == 30 && max <= FP16_LOSS_TOLERANCE && skipped == 0,
                Map.of("loss_max_abs_diff_fp16_vs_fp32", max, "fp16_skipped_steps", (double) skipped));
    }

    /**
     * The whole training step of a random medium-small model (forward, backward, clip, AdamW, clear) on CUDA at
     * 32 × 128 and 128 × 128, in fp32 and in fp16 mixed precision, as {@code benchmark-model} times it.
     */
    private void trainingThroughput(ObjectNode into) throws IOException {
        for (int batch : new int[]{32, 128}) {
            for (String precision : new String[]{"fp32", "fp16"}) {
                String label = batch + "x128 " + precision;
                Path result = output.resolve("benchmark-model-" + batch + "-" + precision + ".json");
                ObjectNode cell = into.putObject(label);
                if (!convbert(cell, "training " + label, "benchmark-model", "--config", "medium-small", "--batch",
                        Integer.toString(batch), "--seq", "128", "--repeats", "5", "--precision", precision, "--device",
                        "gpu:" + deviceId, "--output", result.toString())) {
                    continue;
                }
                JsonNode r = json.readTree(result.toFile());
                double seconds = r.get("training_step").get("seconds_median").asDouble();
                cell.put("step_seconds_median", seconds);
                cell.put("sequences_per_s", batch / seconds);
                cell.put("tokens_per_s", batch * 128 / seconds);
                cell.put("forward_backward_seconds_median", r.get("forward_backward").get("seconds_median").asDouble());
                System.out.printf(Locale.ROOT, "training %-12s %.3f s/step  %.1f sequences/s%n", label, seconds, batch / seconds);
            }
        }
    }

    /**
     * Pre-training with the corruption on the device, the generator's argmax replacing the masked tokens (so every run
     * corrupts the same tokens): three steps of a tiny model on one GPU against the CPU, and with several GPUs the
     * data-parallel replicas against one GPU — losses and gradient norms per step agree. (Their speed needs a real
     * corpus: the fixtures make a few short examples; docs/GPU.md says how to compare.)
     */
    private void djlPretraining(int gpus, ArrayNode checks) throws IOException {
        Path data = output.resolve("pretrain-data");
        Path tiny = output.resolve("pretrain-tiny-config.json");
        ConvBertConfig.tiny().toBuilder().hiddenSize(64).intermediateSize(128).embeddingSize(32).convKernelSize(9)
                .numGroups(1).hiddenDropoutProb(0).attentionProbsDropoutProb(0).build().write(tiny);
        ObjectNode check = checks.addObject();
        if (!Files.isRegularFile(data.resolve("manifest.json")) && !convbert(check, "djl-pretrain-steps", "build-data",
                "--corpus", testdata.resolve("corpus").toString(), "--vocab", testdata.resolve("vocab/bert-base-uncased-vocab.txt").toString(),
                "--output", data.toString(), "--max-seq-length", "64")) {
            return;
        }
        String gpu = "gpu:" + deviceId;
        int batch = 4 * Math.max(2, gpus);                          // every replica gets rows
        List<JsonNode> onCpu = pretrain(check, "djl-pretrain-steps", data, tiny.toString(), "cpu", 3, batch);
        List<JsonNode> onGpu = onCpu == null ? null : pretrain(check, "djl-pretrain-steps", data, tiny.toString(), gpu, 3, batch);
        if (onGpu == null) {
            return;
        }
        judge(check, "djl-pretrain-steps", agree(onCpu, onGpu), Map.of("loss_max_relative_diff_vs_cpu", relativeDiff(onCpu, onGpu)));
        if (gpus > 1) {
            ObjectNode parallel = checks.addObject();
            List<JsonNode> all = pretrain(parallel, "djl-pretrain-data-parallel", data, tiny.toString(), "gpu", 3, batch);
            if (all != null) {
                judge(parallel, "djl-pretrain-data-parallel", agree(onGpu, all),
                        Map.of("loss_max_relative_diff_vs_one_gpu", relativeDiff(onGpu, all), "gpus", (double) gpus));
            }
        }
    }

    /** {@code convbert pretrain} at temperature 0; the metrics of its optimiser steps, or null (the check failed). */
    private List<JsonNode> pretrain(ObjectNode check, String name, Path data, String config, String devices, int steps,
                                    int batch) throws IOException {
        Path out = output.resolve("pretrain-" + name + "-" + devices.replace(':', '-'));
        AtomicFiles.deleteTree(out);
        if (!convbert(check, name, "pretrain", "--data", data.toString(), "--config", config, "--output", out.toString(),
                "--max-steps", Integer.toString(steps), "--batch-size", Integer.toString(batch), "--temperature", "0",
                "--save-every", Integer.toString(steps), "--device", devices)) {
            return null;
        }
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode row = json.readTree(line);
            if (row.has("grad_norm")) {
                rows.add(row);
            }
        }
        return rows;
    }

    private static boolean agree(List<JsonNode> a, List<JsonNode> b) {
        return a.size() == b.size() && relativeDiff(a, b) <= FLOAT32_TOLERANCE;
    }

    /** The largest |x − y| / (|x| + 1e-6) over the steps' losses and gradient norms. */
    private static double relativeDiff(List<JsonNode> a, List<JsonNode> b) {
        double max = 0;
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            for (String f : List.of("loss", "mlm_loss", "disc_loss", "grad_norm")) {
                double x = a.get(i).get(f).asDouble();
                double y = b.get(i).get(f).asDouble();
                max = Math.max(max, Math.abs(x - y) / (Math.abs(x) + 1e-6));
            }
        }
        return max;
    }

    /** Runs {@code convbert <args>} in this JVM; a non-zero exit fails {@code check} with what the command said. */
    private boolean convbert(ObjectNode check, String name, String... args) {
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute(args);
        if (code != 0) {
            fail(check, name, "convbert " + String.join(" ", args) + " exited " + code + ": " + err.toString().strip());
        }
        return code == 0;
    }

    /**
     * A reference model exported (float32, float16 for fp16 engines, or with ONNX Runtime's contrib operators) and run
     * on {@code provider} vs the CPU.
     */
    private void ortLogits(String set, ExecutionProvider provider, boolean contrib, ObjectNode check) throws IOException {
        Path dir = testdata.resolve("reference").resolve(set);
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
            double d = maxDiff(a, b);
            check.put("provider", gpu.provider());
            gpu.placement().ifPresent(v -> check.put("placement", v.summary()));
            judge(check, name, finite && d <= (half ? FLOAT16_TOLERANCE : FLOAT32_TOLERANCE),
                    Map.of("logits_max_abs_diff_vs_cpu", d, "finite", finite ? 1.0 : 0.0));
        } catch (RuntimeException e) {
            fail(check, name, e.getMessage());
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

    private void judge(ObjectNode check, String name, boolean passed, Map<String, Double> numbers) {
        check.put("check", name);
        numbers.forEach(check::put);
        check.put("passed", passed);
        System.out.printf("%-40s %s %s%n", name, passed ? "PASS" : "FAIL", numbers);
        if (!passed) {
            failures.add(name);
        }
    }

    private void fail(ObjectNode check, String name, String why) {
        check.put("check", name);
        check.put("passed", false);
        check.put("error", why);
        System.out.printf("%-40s FAIL %s%n", name, why);
        failures.add(name);
    }

    private void write(ObjectNode report) throws IOException {
        AtomicFiles.writeString(output.resolve("gpu-check.json"), json.writeValueAsString(report) + "\n");
    }

    private static double maxDiff(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }

    private static double maxDiff(float[][] a, double[] flat) {
        double max = 0;
        int w = a[0].length;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < w; j++) {
                max = Math.max(max, Math.abs(a[i][j] - flat[i * w + j]));
            }
        }
        return max;
    }

    private static float[][] logits(Predictor p, ReferenceData in) {
        return p.run(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), false).logits();
    }
}
