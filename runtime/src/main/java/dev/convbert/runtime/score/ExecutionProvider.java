package dev.convbert.runtime.score;

import dev.convbert.core.CommandFailedException;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;

import java.util.Locale;

/**
 * Where ONNX Runtime runs the graph. GPU providers need the {@code onnxruntime_gpu} build ({@code -Pcuda}) and CUDA 12
 * + cuDNN 9 (TensorRT 10 for tensorrt) on the host; when one cannot load, the error says what is missing, and the CPU
 * is used only with {@code allowFallback} (and said so). ORT's own placement of shape nodes on the CPU is allowed;
 * {@link OrtModel} checks that no compute node joins them ({@link NodePlacement}).
 *
 * @param name       cpu, cuda or tensorrt
 * @param trtFp16    TensorRT builds fp16 engines ({@code trt_fp16_enable})
 * @param trtCache   directory for TensorRT's engine and timing caches, so engines are built once per shape profile
 * @param trtProfile the batch × sequence range TensorRT builds one engine for; {@code null}: ORT's per-shape engines
 */
public record ExecutionProvider(String name, int deviceId, boolean trtFp16, String trtCache, TrtProfile trtProfile,
                                boolean allowFallback) {

    /** TensorRT's explicit optimisation profile: min, opt and max of batch and sequence for all three inputs. */
    public record TrtProfile(int minBatch, int minSeq, int optBatch, int optSeq, int maxBatch, int maxSeq) {
        /** The profile string ORT takes: every input at {@code batch} × {@code seq}. */
        public String shapes(int batch, int seq) {
            return String.join(",", java.util.List.of("input_ids", "attention_mask", "token_type_ids").stream()
                    .map(n -> n + ":" + batch + "x" + seq).toList());
        }

        /** As {@code --trt-profile} takes it: {@code B1xL1:B2xL2:B3xL3}. */
        public String spec() {
            return minBatch + "x" + minSeq + ":" + optBatch + "x" + optSeq + ":" + maxBatch + "x" + maxSeq;
        }
    }

    /** The same provider building TensorRT's engines in float16. */
    public ExecutionProvider withTrtFp16() {
        return new ExecutionProvider(name, deviceId, true, trtCache, trtProfile, allowFallback);
    }

    public static ExecutionProvider cpu() {
        return new ExecutionProvider("cpu", 0, false, null, null, false);
    }

    public static ExecutionProvider parse(String name, int deviceId, boolean trtFp16, String cache, TrtProfile profile,
                                          boolean fallback) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("gpu")) {
            n = "cuda";
        }
        if (!n.equals("cpu") && !n.equals("cuda") && !n.equals("tensorrt")) {
            throw new ScoringException("unknown provider \"" + name + "\"; expected cpu, cuda or tensorrt");
        }
        if (deviceId < 0) {
            throw new ScoringException("--device-id " + deviceId + ": expected a GPU number >= 0");
        }
        return new ExecutionProvider(n, deviceId, trtFp16, cache, profile, fallback);
    }

    /**
     * Adds this provider to {@code so}. Returns the provider actually used ("cpu (fallback: …)" when the requested
     * one could not load and fallback is allowed). Native options it creates go to {@code owned}, for the caller to
     * close after the session that uses them.
     */
    public String configure(OrtSession.SessionOptions so, java.util.List<AutoCloseable> owned) {
        if (name.equals("cpu")) {
            return "cpu";
        }
        try {
            if (name.equals("cuda")) {
                require(OrtProvider.CUDA);
                so.addCUDA(deviceId);
            } else {
                require(OrtProvider.TENSOR_RT);
                OrtTensorRTProviderOptions trt = new OrtTensorRTProviderOptions(deviceId);
                owned.add(trt);
                trt.add("trt_fp16_enable", trtFp16 ? "1" : "0");
                if (trtCache != null) {
                    trt.add("trt_engine_cache_enable", "1");
                    trt.add("trt_engine_cache_path", trtCache);
                    trt.add("trt_timing_cache_enable", "1");
                    trt.add("trt_timing_cache_path", trtCache);
                }
                if (trtProfile != null) {
                    trt.add("trt_profile_min_shapes", trtProfile.shapes(trtProfile.minBatch(), trtProfile.minSeq()));
                    trt.add("trt_profile_opt_shapes", trtProfile.shapes(trtProfile.optBatch(), trtProfile.optSeq()));
                    trt.add("trt_profile_max_shapes", trtProfile.shapes(trtProfile.maxBatch(), trtProfile.maxSeq()));
                }
                so.addTensorrt(trt);
                so.addCUDA(deviceId);      // nodes TensorRT does not take run on CUDA, not on the CPU
            }
            return name + ":" + deviceId;
        } catch (OrtException | CommandFailedException e) {
            String why = name + " provider requested but it cannot load: " + e.getMessage()
                    + " (needs the onnxruntime_gpu build, i.e. -Pcuda, with CUDA 12 + cuDNN 9"
                    + (name.equals("tensorrt") ? " + TensorRT 10" : "") + " on the host)";
            if (!allowFallback) {
                throw new CommandFailedException(why + "; rerun with --provider cpu, or --allow-fallback to use the CPU");
            }
            return "cpu (fallback: " + why + ")";
        }
    }

    private static void require(OrtProvider p) {
        if (!OrtEnvironment.getAvailableProviders().contains(p)) {
            throw new CommandFailedException("this ONNX Runtime build has no " + p + " provider (available: "
                    + OrtEnvironment.getAvailableProviders() + ")");
        }
    }
}
