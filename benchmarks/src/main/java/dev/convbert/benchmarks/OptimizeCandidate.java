package dev.convbert.benchmarks;

import dev.convbert.exporter.onnx.ExportOptions;

import java.util.ArrayList;
import java.util.List;

/**
 * One export form {@code convbert optimize} tries: the export options and, for TensorRT, whether its engines are built
 * in float16. Every form the project has; {@link #forProvider} picks those that apply to a provider.
 *
 * @param trtFp16    TensorRT builds float16 engines from the float32 graph ({@code --trt-fp16})
 * @param calibrated static int8: its options take activation ranges measured on the task's train split first
 */
record OptimizeCandidate(String name, ExportOptions options, boolean trtFp16, boolean calibrated, String description) {
    static final String FLOAT32 = "float32";

    static List<OptimizeCandidate> forProvider(String provider) {
        ExportOptions fp32 = ExportOptions.defaults();
        List<OptimizeCandidate> all = new ArrayList<>(List.of(
                new OptimizeCandidate(FLOAT32, fp32, false, false, "export (float32, standard operators)"),
                new OptimizeCandidate("contrib", fp32.toBuilder().ortOperators(true).build(), false, false,
                        "export --ort-operators (ONNX Runtime's fused attention, residual and embedding kernels)"),
                new OptimizeCandidate("int8", fp32.withPrecision(ExportOptions.Precision.INT8), false, false,
                        "export --int8 (dynamic int8 products, float32 elsewhere)"),
                new OptimizeCandidate("contrib-int8", fp32.toBuilder().ortOperators(true)
                        .precision(ExportOptions.Precision.INT8).build(), false, false, "export --ort-operators --int8"),
                new OptimizeCandidate("static-int8", fp32.withPrecision(ExportOptions.Precision.INT8), false, true,
                        "export --int8 --calibration-data (static int8: activation ranges from the train split)"),
                new OptimizeCandidate("contrib-static-int8", fp32.toBuilder().ortOperators(true)
                        .precision(ExportOptions.Precision.INT8).build(), false, true,
                        "export --ort-operators --int8 --calibration-data")));
        if (!provider.equals("cpu")) {
            // half precision pays on GPUs only: on this project's CPUs fp16 kernels are emulated
            all.add(new OptimizeCandidate("float16", fp32.withPrecision(ExportOptions.Precision.FLOAT16), false, false,
                    "export --fp16 (float16 weights and compute, float32 softmax and LayerNorm statistics)"));
        }
        if (provider.equals("tensorrt")) {
            all.add(new OptimizeCandidate("trt-fp16", fp32, true, false, "export, TensorRT float16 engines (--trt-fp16)"));
        }
        return all;
    }

    /** The candidate and its concurrency: {@code workers} passes at once on {@code threads} intra-op threads each. */
    record Setting(OptimizeCandidate candidate, int workers, int threads) {
        String name() {
            return workers == 1 ? candidate.name() : candidate.name() + " ×" + workers;
        }
    }
}
