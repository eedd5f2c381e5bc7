package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * gpu-check's training checks: the trainer's own commands ({@code finetune}, {@code pretrain}, {@code benchmark-model})
 * run on the GPU and on the CPU from the same seeds, their weights and losses compared, and the training step timed.
 */
record GpuTrainingChecks(Path output, TestdataOption testdata, int deviceId, CheckLog log) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Two fine-tuning steps from the same initialisation, dropout off, on the CPU and on CUDA: the weights must agree. */
    void steps(ObjectNode check) throws IOException {
        ConvBertConfig c = ConvBertConfig.tiny().toBuilder().hiddenSize(64).intermediateSize(128).embeddingSize(32)
                .convKernelSize(9).numGroups(1).hiddenDropoutProb(0).attentionProbsDropoutProb(0).classifierDropout(0.0).build();
        Path config = output.resolve("train-step-config.json");
        c.write(config);
        double max = 0;
        Map<String, SafeTensor> cpu = null;
        for (String device : new String[]{"cpu", "gpu:" + deviceId}) {
            Path out = output.resolve("train-step-" + device.replace(':', '-'));
            AtomicFiles.deleteTree(out);
            if (!log.convbert(check, "djl-train-steps", "finetune",
                    "--task", "sst-2", "--data-dir", testdata.resolve("glue").toString(), "--config", config.toString(),
                    "--vocab", testdata.vocab().toString(), "--output", out.toString(),
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
        log.judge(check, "djl-train-steps", max <= GpuCheck.FLOAT32_TOLERANCE, Map.of("weights_max_abs_diff_vs_cpu", max));
    }

    /**
     * Fine-tuning on CUDA in fp16 (fp32 masters, dynamic loss scale) against fp32 on CUDA, same seed and data, 30 steps:
     * every step's loss within {@link GpuCheck#FP16_LOSS_TOLERANCE} (what the CPU test shows: 1.3e-4), no step skipped.
     */
    void mixedPrecision(ObjectNode check) throws IOException {
        Path config = output.resolve("train-step-config.json");
        String gpu = "gpu:" + deviceId;
        List<List<JsonNode>> runs = new ArrayList<>();
        for (String precision : new String[]{"fp32", "fp16"}) {
            Path out = output.resolve("train-" + precision + "-" + gpu.replace(':', '-'));
            AtomicFiles.deleteTree(out);
            if (!log.convbert(check, "djl-train-fp16-vs-fp32", "finetune", "--task", "sst-2", "--data-dir",
                    testdata.resolve("glue").toString(), "--config", config.toString(), "--vocab",
                    testdata.vocab().toString(), "--output", out.toString(),
                    "--max-steps", "30", "--batch-size", "4", "--seed", "3", "--lr", "1e-3", "--device", gpu,
                    "--precision", precision)) {
                return;
            }
            runs.add(TrainingLog.steps(out));
        }
        double max = 0;
        long skipped = 0;
        for (int i = 0; i < Math.min(runs.get(0).size(), runs.get(1).size()); i++) {
            max = Math.max(max, Math.abs(runs.get(0).get(i).get("loss").asDouble() - runs.get(1).get(i).get("loss").asDouble()));
            skipped = runs.get(1).get(i).path("skipped_steps").asLong();
        }
        log.judge(check, "djl-train-fp16-vs-fp32", runs.get(1).size() == 30 && max <= GpuCheck.FP16_LOSS_TOLERANCE && skipped == 0,
                Map.of("loss_max_abs_diff_fp16_vs_fp32", max, "fp16_skipped_steps", (double) skipped));
    }

    /**
     * The whole training step of a random medium-small model (forward, backward, clip, AdamW, clear) on CUDA at
     * 32 × 128 and 128 × 128, in fp32 and in fp16 mixed precision, as {@code benchmark-model} times it.
     */
    void throughput(ObjectNode into) throws IOException {
        for (int batch : new int[]{32, 128}) {
            for (String precision : new String[]{"fp32", "fp16"}) {
                String label = batch + "x128 " + precision;
                Path result = output.resolve("benchmark-model-" + batch + "-" + precision + ".json");
                ObjectNode cell = into.putObject(label);
                if (!log.convbert(cell, "training " + label, "benchmark-model", "--config", "medium-small", "--batch",
                        Integer.toString(batch), "--seq", "128", "--repeats", "5", "--precision", precision, "--device",
                        "gpu:" + deviceId, "--output", result.toString())) {
                    continue;
                }
                JsonNode r = JSON.readTree(result.toFile());
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
    void pretraining(int gpus, ArrayNode checks) throws IOException {
        Path data = output.resolve("pretrain-data");
        Path tiny = output.resolve("pretrain-tiny-config.json");
        ConvBertConfig.tiny().toBuilder().hiddenSize(64).intermediateSize(128).embeddingSize(32).convKernelSize(9)
                .numGroups(1).hiddenDropoutProb(0).attentionProbsDropoutProb(0).build().write(tiny);
        ObjectNode check = checks.addObject();
        if (!Files.isRegularFile(data.resolve("manifest.json")) && !log.convbert(check, "djl-pretrain-steps", "build-data",
                "--corpus", testdata.resolve("corpus").toString(), "--vocab", testdata.vocab().toString(),
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
        log.judge(check, "djl-pretrain-steps", agree(onCpu, onGpu), Map.of("loss_max_relative_diff_vs_cpu", relativeDiff(onCpu, onGpu)));
        if (gpus > 1) {
            ObjectNode parallel = checks.addObject();
            List<JsonNode> all = pretrain(parallel, "djl-pretrain-data-parallel", data, tiny.toString(), "gpu", 3, batch);
            if (all != null) {
                log.judge(parallel, "djl-pretrain-data-parallel", agree(onGpu, all),
                        Map.of("loss_max_relative_diff_vs_one_gpu", relativeDiff(onGpu, all), "gpus", (double) gpus));
            }
        }
    }

    /** {@code convbert pretrain} at temperature 0; the metrics of its optimiser steps, or null (the check failed). */
    private List<JsonNode> pretrain(ObjectNode check, String name, Path data, String config, String devices, int steps,
                                    int batch) throws IOException {
        Path out = output.resolve("pretrain-" + name + "-" + devices.replace(':', '-'));
        AtomicFiles.deleteTree(out);
        if (!log.convbert(check, name, "pretrain", "--data", data.toString(), "--config", config, "--output", out.toString(),
                "--max-steps", Integer.toString(steps), "--batch-size", Integer.toString(batch), "--temperature", "0",
                "--save-every", Integer.toString(steps), "--device", devices)) {
            return null;
        }
        return TrainingLog.steps(out);
    }

    private static boolean agree(List<JsonNode> a, List<JsonNode> b) {
        return a.size() == b.size() && relativeDiff(a, b) <= GpuCheck.FLOAT32_TOLERANCE;
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
}
