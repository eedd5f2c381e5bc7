package dev.convbert.spark;

import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model as an executor JVM holds it: one ONNX Runtime session and one tokenizer, opened by the first task that
 * needs them and shared by every later task of the JVM (Spark runs many tasks per executor, often at once). The
 * session's intra-op pool has the executor's cores, so tasks take turns to run it ({@link #lock()}) while the others
 * tokenise. Sessions live as long as the JVM; a shutdown hook closes them.
 */
final class ExecutorModel {
    private static final Map<String, ExecutorModel> OPEN = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.values().forEach(m -> m.model.close()),
                "convbert-close-sessions"));
    }

    private final OrtModel model;
    private final BertTokenizer tokenizer;
    private final Object lock = new Object();

    private ExecutorModel(OrtModel model, BertTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** The model at {@code onnx} (a local copy Spark shipped) with the vocabulary at {@code vocab}. */
    static ExecutorModel get(Path onnx, Path vocab, int threads) {
        return OPEN.computeIfAbsent(onnx + "\n" + vocab + "\n" + threads, key -> {
            try {
                return new ExecutorModel(OrtModel.open(onnx, ExecutionProvider.cpu(), threads),
                        new BertTokenizer(Vocab.read(vocab)));
            } catch (IOException e) {
                throw new UncheckedIOException(vocab + ": " + e.getMessage(), e);
            }
        });
    }

    OrtModel model() {
        return model;
    }

    BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** Held while a task runs the session: one run at a time uses every core. */
    Object lock() {
        return lock;
    }
}
