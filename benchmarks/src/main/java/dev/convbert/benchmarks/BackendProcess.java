package dev.convbert.benchmarks;

import dev.convbert.core.predict.PaddedBatch;
import ai.djl.Device;
import dev.convbert.core.predict.Predictor;
import dev.convbert.runtime.cli.ProviderOptions;
import dev.convbert.runtime.score.ExecutionProvider;
import picocli.CommandLine;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.trainer.model.TaskModel;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One backend timed in its own JVM. In one process, ORT ran 26.9 ms alone but 30–40 ms once PyTorch had run beside it
 * (batch 1 × seq 128, idle time between them did not help), so each backend gets a process of its own and the parent
 * only rotates blocks over them. Protocol on stdin/stdout, one line each way: {@code run BATCH SEQ REPEATS SEED} →
 * {@code ok MS…} (one untimed run, then REPEATS timed back-to-back runs on ids drawn from SEED) or {@code error WHY};
 * {@code quit} ends the worker.
 */
final class BackendProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final BufferedWriter commands;
    private final BufferedReader replies;

    private BackendProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        this.commands = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /**
     * Starts a worker for {@code model} (an .onnx for ORT, a model directory for DJL) on {@code provider} (DJL takes the
     * GPU of a cuda/tensorrt provider) and waits until it is loaded.
     */
    static BackendProcess start(String name, Path model, ProviderOptions provider) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-Dai.djl.offline=true", "-cp",
                System.getProperty("java.class.path"), BackendProcess.class.getName(), model.toString()));
        cmd.addAll(provider.args());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();   // its errors reach our log
        BackendProcess b = new BackendProcess(name, p);
        String ready = b.replies.readLine();
        if (!"ready".equals(ready)) {
            b.close();
            throw new IOException(name + ": the benchmark worker did not start (" + (ready == null ? b.exitReason() : ready) + ")");
        }
        return b;
    }

    String name() {
        return name;
    }

    /** One block: an untimed run, then {@code repeats} timed ones; milliseconds each. */
    double[] block(int batch, int seq, int repeats, long seed) throws IOException {
        commands.write(String.format(Locale.ROOT, "run %d %d %d %d%n", batch, seq, repeats, seed));
        commands.flush();
        String reply = replies.readLine();
        if (reply == null) {
            throw new IOException(name + " worker died at batch " + batch + " × seq " + seq + " (" + exitReason() + ")");
        }
        if (!reply.startsWith("ok ")) {
            throw new IOException(name + " at batch " + batch + " × seq " + seq + ": " + reply);
        }
        String[] parts = reply.substring(3).trim().split(" ");
        double[] ms = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            ms[i] = Double.parseDouble(parts[i]);
        }
        return ms;
    }

    private String exitReason() {
        try {
            if (process.waitFor(5, TimeUnit.SECONDS)) {
                int code = process.exitValue();
                return "exit " + code + (code == 137 ? ": killed, most likely out of memory" : "");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "no reply";
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                commands.write("quit\n");
                commands.flush();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException | InterruptedException e) {
            // the worker is going away either way
        } finally {
            process.destroyForcibly();
        }
    }

    /** The worker: loads one backend, answers {@code run} lines until {@code quit} or end of input. */
    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);       // library chatter must not reach the protocol stream
        Path model = Path.of(args[0]);
        ProviderOptions options = CommandLine.populateCommand(new ProviderOptions(), Arrays.copyOfRange(args, 1, args.length));
        ExecutionProvider provider = options.provider();
        try (Predictor p = model.toString().endsWith(".onnx") ? OrtModel.open(model, provider)
                : TaskModel.load(model, provider.name().equals("cpu") ? Device.cpu() : Device.gpu(provider.deviceId()))) {
            int vocab = p.config().vocabSize();
            out.println("ready");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null && !line.equals("quit"); line = in.readLine()) {
                String[] f = line.split(" ");
                try {
                    int batch = Integer.parseInt(f[1]), seq = Integer.parseInt(f[2]), repeats = Integer.parseInt(f[3]);
                    PaddedBatch inputs = SyntheticIds.batch(batch, seq, vocab, Long.parseLong(f[4]));
                    long[][] ids = inputs.inputIds();
                    long[][] mask = inputs.attentionMask();
                    long[][] types = inputs.tokenTypeIds();
                    p.run(ids, types, mask, false);      // wakes this backend's threads, untimed
                    StringBuilder reply = new StringBuilder("ok");
                    for (int r = 0; r < repeats; r++) {
                        long start = System.nanoTime();
                        p.run(ids, types, mask, false);
                        reply.append(' ').append((System.nanoTime() - start) / 1e6);
                    }
                    out.println(reply);
                } catch (RuntimeException e) {
                    out.println("error " + String.valueOf(e.getMessage()).replace('\n', ' '));
                }
            }
        }
    }
}
