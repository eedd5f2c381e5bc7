package dev.convbert.benchmarks;

import ai.djl.util.cuda.CudaUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.runtime.score.ExecutionProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What a benchmark ran on, for its JSON: the provider and, for a GPU one, the card's name and driver (nvidia-smi), the
 * CUDA runtime DJL finds and the card's compute capability. Missing pieces are recorded as such, never guessed.
 */
final class GpuInfo {
    private GpuInfo() {}

    static ObjectNode describe(ExecutionProvider provider, ObjectMapper mapper) {
        ObjectNode o = mapper.createObjectNode();
        o.put("provider", provider.name());
        o.put("cpu", System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " threads");
        if (provider.name().equals("cpu")) {
            return o;
        }
        int id = provider.deviceId();
        o.put("device_id", id);
        o.put("nvidia_smi", nvidiaSmi(id));
        try {
            o.put("cuda_runtime", CudaUtils.hasCuda() ? CudaUtils.getCudaVersionString() : "no CUDA runtime found");
            o.put("compute_capability", CudaUtils.hasCuda() && id < CudaUtils.getGpuCount()
                    ? CudaUtils.getComputeCapability(id) : "unknown");
        } catch (RuntimeException | LinkageError e) {
            o.put("cuda_runtime", "unavailable: " + e.getMessage());
        }
        return o;
    }

    /** "name, driver, memory" of GPU {@code id}, or why it is unknown. */
    private static String nvidiaSmi(int id) {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader",
                    "--id=" + id).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "nvidia-smi failed: " + out;
        } catch (IOException e) {
            return "nvidia-smi not found";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
