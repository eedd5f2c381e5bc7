package dev.convbert.runtime.serve;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.runtime.TinyModel;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A request queued as the server stops is answered (or refused), never left to its timeout. */
@org.junit.jupiter.api.Timeout(120)
class MicroBatcherTest {
    @Test
    void everyRowSubmittedAroundCloseIsAnsweredOrRefused() throws Exception {
        try (OrtModel model = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu())) {
            Predictor fast = new Predictor() {
                @Override public ConvBertConfig config() { return model.config(); }
                @Override public boolean hasClassificationHead() { return true; }
                @Override public Optional<Path> vocab() { return Optional.empty(); }
                @Override public Optional<String> vocabSha256() { return Optional.empty(); }
                @Override public Output run(long[][] ids, long[][] t, long[][] m, boolean h) {
                    return new Output(new float[ids.length][2], null);
                }
                @Override public void close() {}
            };
            List<Encoding> row = List.of(new Encoding(new int[]{101, 2204, 102}, new int[3], List.of()));
            int left = 0;
            for (int round = 0; round < 300; round++) {
                MicroBatcher batcher = new MicroBatcher(fast, 8, 0, 1000, new ServerMetrics("test", "1"), 2);
                List<CompletableFuture<float[]>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
                CountDownLatch go = new CountDownLatch(1);
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    Thread t = new Thread(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        for (int i = 0; i < 20; i++) {
                            List<CompletableFuture<float[]>> f = batcher.submit(row, 60_000);
                            if (f != null) {
                                futures.addAll(f);
                            }
                        }
                    });
                    t.start();
                    clients.add(t);
                }
                go.countDown();
                batcher.close();
                for (Thread t : clients) {
                    t.join();
                }
                for (CompletableFuture<float[]> f : futures) {
                    left += f.isDone() ? 0 : 1;
                }
            }
            assertTrue(left == 0, left + " rows queued as the batcher closed were never answered");
        }
    }
}
