package dev.convbert.runtime.serve;

import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Batching;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.Encoding;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic micro-batching across concurrent requests: rows wait at most {@code maxWaitMs} for company, up to
 * {@code maxBatch} rows run together. The queue holds at most {@code capacity} rows; a request that does not fit is
 * refused at once (the caller answers 503), never half-queued. A row whose deadline passed while queued is not run.
 *
 * <p>Answers never depend on batch company: padding-invariant models are padded to the longest row; HF-semantics
 * models only share a forward pass among rows of equal length (padding would change their answers).
 */
public final class MicroBatcher implements AutoCloseable {

    /** Thrown (in the future) for a row whose deadline passed before it ran. */
    public static final class QueueTimeoutException extends RuntimeException {
        QueueTimeoutException(long ms) {
            super("request timed out in queue after " + ms + " ms");
        }
    }

    private record Row(Encoding encoding, long enqueuedNanos, long deadlineNanos, long timeoutMs, CompletableFuture<float[]> result) {}

    private final Predictor predictor;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final Semaphore capacity;
    private final int capacityRows;
    private final LinkedBlockingQueue<Row> queue = new LinkedBlockingQueue<>();
    private final ServerMetrics metrics;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean running = true;
    private final Object lifecycle = new Object();
    /** Set when the model failed in a way the process cannot recover from (an Error): the server reports it. */
    private volatile Throwable failure;

    /**
     * {@code passesAtOnce} workers each take a micro-batch and run it, so that many run at the same time (one where the
     * predictor does not allow concurrent runs).
     */
    public MicroBatcher(Predictor predictor, int maxBatch, long maxWaitMs, int capacity, ServerMetrics metrics,
                        int passesAtOnce) {
        Predictor.requireClassificationHead(predictor, "the model", "serving");
        this.predictor = predictor;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.capacity = new Semaphore(capacity);
        this.capacityRows = capacity;
        this.metrics = metrics;
        int n = predictor.concurrentRuns() ? Math.max(1, passesAtOnce) : 1;
        for (int i = 0; i < n; i++) {
            Thread worker = new Thread(this::loop, "convbert-batcher-" + i);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
    }

    /** Queues all rows of one request, or none: {@code null} when the queue cannot take them (answer 503). */
    public List<CompletableFuture<float[]>> submit(List<Encoding> rows, long timeoutMs) {
        // under the lock close() stops under: rows are queued before the stop (and answered) or refused after it;
        // without it a request could pass the check, the workers drain and exit, and its rows wait for their timeout
        synchronized (lifecycle) {
            if (!running || failure != null || !capacity.tryAcquire(rows.size())) {
                return null;
            }
            long now = System.nanoTime();
            long deadline = now + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            List<CompletableFuture<float[]>> futures = new ArrayList<>(rows.size());
            for (Encoding e : rows) {
                CompletableFuture<float[]> f = new CompletableFuture<>();
                futures.add(f);
                queue.add(new Row(e, now, deadline, timeoutMs, f));
            }
            return futures;
        }
    }

    /** What stopped the worker for good (e.g. OutOfMemoryError), if anything did. */
    public java.util.Optional<Throwable> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    public int queueDepth() {
        return capacityRows - capacity.availablePermits();
    }

    private void loop() {
        while (running || !queue.isEmpty()) {
            try {
                Row first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                List<Row> batch = new ArrayList<>(maxBatch);
                batch.add(first);
                long until = System.nanoTime() + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    long left = until - System.nanoTime();
                    Row next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                run(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // run() completes every future itself; anything here is a bug that must not kill the worker
                e.printStackTrace();
            } catch (Error e) {
                fail(e);
                return;
            }
        }
    }

    /** An Error leaves the model in an unknown state: refuse new rows, answer queued ones, and say so on /health. */
    private void fail(Error e) {
        failure = e;
        running = false;
        for (Row r; (r = queue.poll()) != null; ) {
            capacity.release();
            r.result.completeExceptionally(e);
        }
    }

    private void run(List<Row> batch) {
        long now = System.nanoTime();
        List<Row> live = new ArrayList<>(batch.size());
        for (Row r : batch) {
            if (now > r.deadlineNanos) {
                metrics.timedOut();
                r.result.completeExceptionally(new QueueTimeoutException(r.timeoutMs));
            } else {
                live.add(r);
            }
        }
        capacity.release(batch.size());
        if (live.isEmpty()) {
            return;
        }
        // score's batching: ascending length; HF-semantics models share a pass only among rows of equal length
        List<Encoding> encodings = live.stream().map(Row::encoding).toList();
        for (List<Integer> pass : BatchRunner.passes(encodings, Batching.rows(maxBatch), predictor.config().paddingInvariant())) {
            forward(pass.stream().map(live::get).toList());
        }
    }

    private void forward(List<Row> rows) {
        int b = rows.size();
        PaddedBatch padded = PaddedBatch.of(rows.stream().map(Row::encoding).toList());
        long start = System.nanoTime();
        long queued = rows.stream().mapToLong(r -> (start - r.enqueuedNanos) / 1000).sum();
        try {
            float[][] logits = padded.run(predictor, false).logits();
            metrics.batch(b, queued, (System.nanoTime() - start) / 1000);
            for (int i = 0; i < b; i++) {
                rows.get(i).result.complete(logits[i]);
            }
        } catch (RuntimeException | Error e) {
            rows.forEach(r -> r.result.completeExceptionally(e));
            if (e instanceof Error error) {
                throw error;
            }
        }
    }

    /** Stops taking rows; rows already queued are still answered (within 30 s; any left then are failed, not left waiting). */
    @Override
    public void close() {
        synchronized (lifecycle) {
            running = false;
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            for (Thread worker : workers) {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Row r; (r = queue.poll()) != null; ) {
            capacity.release();
            r.result.completeExceptionally(new IllegalStateException("the server stopped before this row ran"));
        }
    }
}
