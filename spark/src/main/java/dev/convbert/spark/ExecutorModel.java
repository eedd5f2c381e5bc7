package dev.convbert.spark;

import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The model as an executor JVM holds it: one ONNX Runtime session and one tokenizer, opened by the first task that
 * needs them and shared by every later task of the JVM (Spark runs many tasks per executor, often at once). Two tasks
 * run the session at once, each pass on half the executor's cores ({@link #runs()}), while the others tokenise: passes
 * of short rows run faster side by side than one at a time on every core (as {@code score --workers}). Sessions live
 * as long as the JVM; a shutdown hook closes them.
 */
final class ExecutorModel {
    private static final Map<String, ExecutorModel> OPEN = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.values().forEach(m -> m.model.close()),
                "convbert-close-sessions"));
    }

    private final OrtModel model;
    private final BertTokenizer tokenizer;
    private final Semaphore runs;

    private ExecutorModel(OrtModel model, BertTokenizer tokenizer, int runsAtOnce) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.runs = new Semaphore(runsAtOnce);
    }

    /**
     * The shipped model and vocabulary, from this host's local copy, for {@code cores} (0: every core of the JVM), with
     * {@code workers} passes at once (0: the default for that many cores; the driver reads what optimize recorded).
     */
    static ExecutorModel get(ShippedModel shipped, int cores, int workers) {
        Path[] local = shipped.local();
        return get(local[0], local[1], cores > 0 ? cores : Runtime.getRuntime().availableProcessors(), workers);
    }

    private static ExecutorModel get(Path onnx, Path vocab, int cores, int workers) {
        return OPEN.computeIfAbsent(onnx + "\n" + vocab + "\n" + cores + "\n" + workers, key -> {
            int runsAtOnce = workers > 0 ? workers : OrtModel.concurrentPasses(cores);
            try {
                return new ExecutorModel(OrtModel.open(onnx, ExecutionProvider.cpu(), OrtModel.threadsPerPass(cores, runsAtOnce)),
                        new BertTokenizer(Vocab.read(vocab)), runsAtOnce);
            } catch (IOException e) {
                throw new UncheckedIOException(vocab + ": " + e.getMessage(), e);
            }
        });
    }

    /** A task's (text, pair) rows scored: encoded, then run in length-sorted passes under a permit (two at once). */
    float[][] logits(List<String[]> texts, int maxLength, int batchSize) {
        List<Encoding> encodings = new ArrayList<>(texts.size());
        for (String[] t : texts) {
            encodings.add(t[1] == null ? tokenizer.encode(t[0], maxLength) : tokenizer.encode(t[0], t[1], maxLength));
        }
        runs.acquireUninterruptibly();
        try {
            return BatchRunner.logits(model, encodings, batchSize, null);
        } finally {
            runs.release();
        }
    }

    /** A partition read whole (one pass wants its rows together) and each row's (text, pair) as {@code texts} reads it. */
    record Partition(List<org.apache.spark.sql.Row> rows, List<String[]> texts) {
        static Partition read(java.util.Iterator<org.apache.spark.sql.Row> input,
                              java.util.function.Function<org.apache.spark.sql.Row, String[]> texts) {
            List<org.apache.spark.sql.Row> rows = new ArrayList<>();
            input.forEachRemaining(rows::add);
            return new Partition(rows, rows.stream().map(texts).toList());
        }
    }
}
