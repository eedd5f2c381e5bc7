package dev.convbert.runtime.cli;

import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.ScoringException;
import picocli.CommandLine.Option;

/**
 * The ONNX Runtime provider options every command that runs an {@code .onnx} takes (score, serve, benchmark,
 * serve-load), defined once.
 */
public final class ProviderOptions {
    @Option(names = "--provider", defaultValue = "cpu", description = "cpu, cuda or tensorrt (default ${DEFAULT-VALUE}).")
    String provider = "cpu";

    @Option(names = "--device-id", defaultValue = "0", description = "GPU number for cuda/tensorrt (default ${DEFAULT-VALUE}).")
    int deviceId;

    @Option(names = "--trt-fp16", description = "TensorRT: build float16 engines.")
    boolean trtFp16;

    @Option(names = "--trt-cache", paramLabel = "DIR", description = "TensorRT: engine and timing cache directory, so engines are built once (default: none, built per run).")
    String trtCache;

    @Option(names = "--trt-profile", paramLabel = "B1xL1:B2xL2:B3xL3",
            description = "TensorRT: min:opt:max batch × sequence of one engine, e.g. 1x8:8x128:32x512 (default: ORT builds per shape).")
    String trtProfile;

    @Option(names = "--allow-fallback", description = "Use the CPU when the requested provider cannot load or create the session (and say so).")
    boolean allowFallback;

    /** {@code p} as these options' arguments, for a worker process that must open its model the same way. */
    public static java.util.List<String> args(ExecutionProvider p) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("--provider", p.name(), "--device-id",
                Integer.toString(p.deviceId())));
        if (p.trtFp16()) {
            a.add("--trt-fp16");
        }
        if (p.trtCache() != null) {
            a.addAll(java.util.List.of("--trt-cache", p.trtCache()));
        }
        if (p.trtProfile() != null) {
            a.addAll(java.util.List.of("--trt-profile", p.trtProfile().spec()));
        }
        if (p.allowFallback()) {
            a.add("--allow-fallback");
        }
        return a;
    }

    /** For TensorRT without --trt-profile: one profile spanning {@code spec} (a benchmark's whole grid). */
    public void defaultTrtProfile(String spec) {
        if (provider.equalsIgnoreCase("tensorrt") && trtProfile == null) {
            profile(spec);
            trtProfile = spec;
        }
    }

    public ExecutionProvider provider() {
        return ExecutionProvider.parse(provider, deviceId, trtFp16, trtCache, profile(trtProfile), allowFallback);
    }

    /** {@code B1xL1:B2xL2:B3xL3}; {@code null} for none. */
    static ExecutionProvider.TrtProfile profile(String spec) {
        if (spec == null) {
            return null;
        }
        String[] parts = spec.split(":");
        if (parts.length != 3) {
            throw new ScoringException("--trt-profile \"" + spec + "\": expected min:opt:max, each BATCHxSEQ, e.g. 1x8:8x128:32x512");
        }
        int[] v = new int[6];
        for (int i = 0; i < 3; i++) {
            String[] bl = parts[i].toLowerCase(java.util.Locale.ROOT).split("x");
            try {
                v[2 * i] = Integer.parseInt(bl[0]);
                v[2 * i + 1] = Integer.parseInt(bl[1]);
            } catch (RuntimeException e) {
                throw new ScoringException("--trt-profile \"" + spec + "\": \"" + parts[i] + "\" is not BATCHxSEQ");
            }
        }
        if (v[0] < 1 || v[1] < 1 || v[0] > v[2] || v[2] > v[4] || v[1] > v[3] || v[3] > v[5]) {
            throw new ScoringException("--trt-profile \"" + spec + "\": need 1 <= min <= opt <= max for batch and sequence");
        }
        return new ExecutionProvider.TrtProfile(v[0], v[1], v[2], v[3], v[4], v[5]);
    }
}
