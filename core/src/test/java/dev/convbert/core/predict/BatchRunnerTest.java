package dev.convbert.core.predict;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.tokenize.Encoding;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Passes run side by side give every row the answer it gets alone, in input order; a predictor that may not is run serially. */
class BatchRunnerTest {

    /** Logits [Σ ids of the row's real tokens, real length]; counts the calls in flight. */
    private static final class Counting implements Predictor {
        final boolean concurrent;
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();
        final CountDownLatch twoStarted = new CountDownLatch(2);

        Counting(boolean concurrent) {
            this.concurrent = concurrent;
        }

        @Override
        public ConvBertConfig config() {
            return ConvBertConfig.mediumSmall();
        }

        @Override
        public boolean hasClassificationHead() {
            return true;
        }

        @Override
        public Optional<Path> vocab() {
            return Optional.empty();
        }

        @Override
        public Optional<String> vocabSha256() {
            return Optional.empty();
        }

        @Override
        public boolean concurrentRuns() {
            return concurrent;
        }

        @Override
        public Output run(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask, boolean hiddenStates) {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                if (concurrent) {
                    // the first pass waits until a second one has started: it only returns quickly if they overlap
                    twoStarted.countDown();
                    twoStarted.await(10, TimeUnit.SECONDS);
                }
                float[][] logits = new float[inputIds.length][];
                for (int r = 0; r < inputIds.length; r++) {
                    long sum = 0;
                    int length = 0;
                    for (int j = 0; j < inputIds[r].length; j++) {
                        sum += inputIds[r][j] * attentionMask[r][j];
                        length += (int) attentionMask[r][j];
                    }
                    logits[r] = new float[]{sum, length};
                }
                return new Output(logits, null);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                inFlight.decrementAndGet();
            }
        }

        @Override
        public void close() {
        }
    }

    private static List<Encoding> rows() {
        List<Encoding> out = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int length = 2 + (i * 7) % 23;
            int[] ids = new int[length];
            for (int j = 0; j < length; j++) {
                ids[j] = 100 + i + j;
            }
            out.add(new Encoding(ids, new int[length], List.of()));
        }
        return out;
    }

    @Test
    void passesSideBySideAnswerAsOneAtATime() {
        List<Encoding> rows = rows();
        float[][] serial = BatchRunner.logits(new Counting(false), rows, Batching.rows(4), null, 1);
        Counting concurrent = new Counting(true);
        float[][] side = BatchRunner.logits(concurrent, rows, Batching.rows(4), null, 2);
        assertEquals(2, concurrent.most.get(), "two passes ran at once");
        for (int i = 0; i < rows.size(); i++) {
            assertArrayEquals(serial[i], side[i], "row " + i);
            assertEquals(rows.get(i).length(), side[i][1], "row " + i + " answered in input order");
        }
    }

    @Test
    void aPredictorThatMayNotRunConcurrentlyRunsOnePassAtATime() {
        Counting serialOnly = new Counting(false);
        BatchRunner.logits(serialOnly, rows(), Batching.rows(4), null, 4);
        assertTrue(serialOnly.most.get() == 1, "passes in flight: " + serialOnly.most.get());
    }
}
