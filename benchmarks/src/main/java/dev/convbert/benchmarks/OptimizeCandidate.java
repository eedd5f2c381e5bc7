package dev.convbert.benchmarks;

import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.runtime.score.ExecutionProvider;

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

    /**
     * The forms worth trying on {@code provider}. The CPU: float32, the contrib operators, dynamic and static int8 of
     * both. A GPU: float32, float16 and, on CUDA, the contrib operators (ONNX Runtime's int8 products are CPU kernels:
     * on a GPU they would move the model's products to the CPU, which the placement check refuses); TensorRT adds its
     * own float16 engines.
     */
    static List<OptimizeCandidate> forProvider(String provider) {
        ExportOptions fp32 = ExportOptions.defaults();
        ExportOptions contrib = fp32.toBuilder().ortOperators(true).build();
        ExportOptions int8 = fp32.withPrecision(ExportOptions.Precision.INT8);
        ExportOptions contribInt8 = contrib.withPrecision(ExportOptions.Precision.INT8);
        List<OptimizeCandidate> all = new ArrayList<>();
        all.add(new OptimizeCandidate(FLOAT32, fp32, false, false, "export (float32, standard operators)"));
        if (!provider.equals("tensorrt")) {
            all.add(new OptimizeCandidate("contrib", contrib, false, false,
                    "export --ort-operators (ONNX Runtime's fused attention, residual and embedding kernels)"));
        }
        if (provider.equals("cpu")) {
            all.add(new OptimizeCandidate("int8", int8, false, false, "export --int8 (dynamic int8 products, float32 elsewhere)"));
            all.add(new OptimizeCandidate("contrib-int8", contribInt8, false, false, "export --ort-operators --int8"));
            all.add(new OptimizeCandidate("static-int8", int8, false, true,
                    "export --int8 --calibration-data (static int8: activation ranges from the train split)"));
            all.add(new OptimizeCandidate("contrib-static-int8", contribInt8, false, true,
                    "export --ort-operators --int8 --calibration-data"));
        } else {
            // half precision pays on GPUs only: on this project's CPUs fp16 kernels are emulated
            all.add(new OptimizeCandidate("float16", fp32.withPrecision(ExportOptions.Precision.FLOAT16), false, false,
                    "export --fp16 (float16 weights and compute, float32 softmax and LayerNorm statistics)"));
        }
        if (provider.equals("tensorrt")) {
            all.add(new OptimizeCandidate("trt-fp16", fp32, true, false, "export, TensorRT float16 engines (--trt-fp16)"));
        }
        return all;
    }

    /** The provider it runs on: {@code base}, building TensorRT's engines in float16 for {@code trt-fp16}. */
    ExecutionProvider provider(ExecutionProvider base) {
        return trtFp16 ? base.withTrtFp16() : base;
    }

    /** The candidate and its concurrency: {@code workers} passes at once on {@code threads} intra-op threads each. */
    record Setting(OptimizeCandidate candidate, int workers, int threads) {
        String name() {
            return workers == 1 ? candidate.name() : candidate.name() + " ×" + workers;
        }
    }
}
