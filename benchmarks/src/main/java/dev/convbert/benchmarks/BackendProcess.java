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
 * {@code runp BATCH SEQ REPEATS SEED PASSES} → {@code ok WALL_MS MS…}: PASSES threads each do the same at once on the
 * one session (as {@code score --workers} runs passes), WALL_MS from the first start to the last end;
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
    static BackendProcess start(String name, Path model, ExecutionProvider provider) throws IOException {
        return start(name, model, provider, null);
    }

    /** As above, with ONNX Runtime's intra-op threads per run set to {@code intraOpThreads} (null: the default). */
    static BackendProcess start(String name, Path model, ExecutionProvider provider, Integer intraOpThreads) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-Dai.djl.offline=true", "-cp",
                System.getProperty("java.class.path"), BackendProcess.class.getName(), model.toString()));
        cmd.addAll(ProviderOptions.args(provider));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);   // its errors reach our log
        if (intraOpThreads != null) {
            pb.environment().put("CONVBERT_ORT_THREADS", Integer.toString(intraOpThreads));
        }
        Process p = pb.start();
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
        return request(String.format(Locale.ROOT, "run %d %d %d %d%n", batch, seq, repeats, seed), batch, seq);
    }

    /** {@code passes} threads each running a block at once: the wall time of all, then every run's milliseconds. */
    double[] concurrentBlock(int batch, int seq, int repeats, long seed, int passes) throws IOException {
        return request(String.format(Locale.ROOT, "runp %d %d %d %d %d%n", batch, seq, repeats, seed, passes), batch, seq);
    }

    private double[] request(String line, int batch, int seq) throws IOException {
        commands.write(line);
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
                    if (f[0].equals("runp")) {
                        out.println(concurrently(p, inputs, repeats, Integer.parseInt(f[5])));
                        continue;
                    }
                    p.run(ids, types, mask, false);      // wakes this backend's threads, untimed
                    StringBuilder reply = new StringBuilder("ok");
                    for (int r = 0; r < repeats; r++) {
                        long start = System.nanoTime();
                        p.run(ids, types, mask, false);
                        reply.append(' ').append((System.nanoTime() - start) / 1e6);
                    }
                    out.println(reply);
                } catch (RuntimeException | InterruptedException | java.util.concurrent.ExecutionException e) {
                    out.println("error " + String.valueOf(e.getMessage()).replace('\n', ' '));
                }
            }
        }
    }

    /** {@code passes} threads, each an untimed run then {@code repeats} timed ones, started together. */
    private static String concurrently(Predictor p, PaddedBatch in, int repeats, int passes)
            throws InterruptedException, java.util.concurrent.ExecutionException {
        var pool = java.util.concurrent.Executors.newFixedThreadPool(passes);
        try {
            var warm = new java.util.concurrent.CountDownLatch(passes);
            var go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<double[]>> runs = new ArrayList<>();
            for (int t = 0; t < passes; t++) {
                runs.add(pool.submit(() -> {
                    p.run(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), false);
                    warm.countDown();
                    go.await();
                    double[] ms = new double[repeats];
                    for (int r = 0; r < repeats; r++) {
                        long start = System.nanoTime();
                        p.run(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), false);
                        ms[r] = (System.nanoTime() - start) / 1e6;
                    }
                    return ms;
                }));
            }
            warm.await();
            long start = System.nanoTime();
            go.countDown();
            StringBuilder reply = new StringBuilder("ok");
            List<double[]> all = new ArrayList<>();
            for (var f : runs) {
                all.add(f.get());
            }
            reply.append(' ').append((System.nanoTime() - start) / 1e6);
            all.forEach(ms -> Arrays.stream(ms).forEach(v -> reply.append(' ').append(v)));
            return reply.toString();
        } finally {
            pool.shutdownNow();
        }
    }
}
