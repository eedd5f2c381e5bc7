package dev.convbert.spark;

import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model and its vocabulary on their way to the executors: broadcast from the driver as bytes (Spark's torrent
 * broadcast, on any cluster manager) and written once per executor host to a folder named by the model's sha256.
 * {@code SparkContext.addFile} was not enough: on a standalone cluster the executors looked for the files where
 * {@code SparkFiles.get} pointed and found nothing (every task failed); broadcast variables have no such directory.
 */
final class ShippedModel implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Tasks of one executor JVM each hold their own deserialised copy: the lock must be the JVM's. */
    private static final Object WRITING = new Object();

    private final Broadcast<byte[]> onnx;
    private final Broadcast<byte[]> vocab;
    private final String key;

    private ShippedModel(Broadcast<byte[]> onnx, Broadcast<byte[]> vocab, String key) {
        this.onnx = onnx;
        this.vocab = vocab;
        this.key = key;
    }

    /** Reads both files on the driver and broadcasts them. */
    static ShippedModel ship(SparkContext sc, Path model, Path vocabFile) throws IOException {
        byte[] m = Files.readAllBytes(model);
        byte[] v = Files.readAllBytes(vocabFile);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        return new ShippedModel(jsc.broadcast(m), jsc.broadcast(v), Hashing.sha256(m).substring(0, 16) + "-"
                + Hashing.sha256(v).substring(0, 8));
    }

    /** On an executor: the local copies (model.onnx, vocab.txt), written by the first task of the host that needs them. */
    Path[] local() {
        synchronized (WRITING) {
            return write();
        }
    }

    private Path[] write() {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "convbert-model-" + key);
        Path model = dir.resolve("model.onnx");
        Path vocabFile = dir.resolve("vocab.txt");
        try {
            if (!Files.isRegularFile(model) || !Files.isRegularFile(vocabFile)) {
                Files.createDirectories(dir);
                byte[] m = onnx.value();
                byte[] v = vocab.value();
                AtomicFiles.write(vocabFile, out -> out.write(v));     // atomic: executor JVMs of one host may race here
                AtomicFiles.write(model, out -> out.write(m));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot hold the shipped model: " + e.getMessage(), e);
        }
        return new Path[]{model, vocabFile};
    }
}
