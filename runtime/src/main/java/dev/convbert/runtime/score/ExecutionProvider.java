package dev.convbert.runtime.score;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;

import java.util.Locale;

/**
 * Where ONNX Runtime runs the graph. GPU providers need the {@code onnxruntime_gpu} build ({@code -Pcuda}) and CUDA 12
 * + cuDNN 9 (TensorRT 10 for tensorrt) on the host; when one cannot load, the error says what is missing, and the CPU
 * is used only with {@code allowFallback} (and said so).
 *
 * @param name cpu, cuda or tensorrt
 */
public record ExecutionProvider(String name, int deviceId, boolean trtFp16, String trtEngineCache, boolean allowFallback) {

    public static ExecutionProvider cpu() {
        return new ExecutionProvider("cpu", 0, false, null, false);
    }

    public static ExecutionProvider parse(String name, int deviceId, boolean trtFp16, String cache, boolean fallback) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("gpu")) {
            n = "cuda";
        }
        if (!n.equals("cpu") && !n.equals("cuda") && !n.equals("tensorrt")) {
            throw new ScoringException("unknown provider \"" + name + "\"; expected cpu, cuda or tensorrt");
        }
        return new ExecutionProvider(n, deviceId, trtFp16, cache, fallback);
    }

    /**
     * Adds this provider to {@code so}. Returns the provider actually used ("cpu (fallback: …)" when the requested
     * one could not load and fallback is allowed).
     */
    public String configure(OrtSession.SessionOptions so) {
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
                trt.add("trt_fp16_enable", trtFp16 ? "1" : "0");
                if (trtEngineCache != null) {
                    trt.add("trt_engine_cache_enable", "1");
                    trt.add("trt_engine_cache_path", trtEngineCache);
                }
                so.addTensorrt(trt);
                so.addCUDA(deviceId);      // nodes TensorRT does not take run on CUDA, not silently on the CPU
            }
            so.addConfigEntry("session.disable_cpu_ep_fallback", "1");
            return name + ":" + deviceId;
        } catch (OrtException | ScoringException e) {
            String why = name + " provider requested but it cannot load: " + e.getMessage()
                    + " (needs the onnxruntime_gpu build, i.e. -Pcuda, with CUDA 12 + cuDNN 9"
                    + (name.equals("tensorrt") ? " + TensorRT 10" : "") + " on the host)";
            if (!allowFallback) {
                throw new ScoringException(why + "; rerun with --provider cpu, or --allow-fallback to use the CPU");
            }
            return "cpu (fallback: " + why + ")";
        }
    }

    private static void require(OrtProvider p) {
        if (!OrtEnvironment.getAvailableProviders().contains(p)) {
            throw new ScoringException("this ONNX Runtime build has no " + p + " provider (available: "
                    + OrtEnvironment.getAvailableProviders() + ")");
        }
    }
}
