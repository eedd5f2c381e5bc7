package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters, latency percentiles (over the last 10,000 requests) and the batch-size histogram of {@code serve}. */
public final class ServerMetrics {
    private static final int WINDOW = 10_000;

    private final Map<Integer, LongAdder> responsesByStatus = new ConcurrentHashMap<>();
    private final LongAdder rowsPredicted = new LongAdder();
    private final LongAdder batchesExecuted = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder queueMicros = new LongAdder();
    private final LongAdder computeMicros = new LongAdder();
    private final Map<Integer, LongAdder> batchSizes = new ConcurrentHashMap<>();
    private final double[] latenciesMs = new double[WINDOW];
    private final AtomicLong latencyCount = new AtomicLong();

    void response(int status, double latencyMs) {
        responsesByStatus.computeIfAbsent(status, k -> new LongAdder()).increment();
        if (status == 200) {
            synchronized (latenciesMs) {
                latenciesMs[(int) (latencyCount.getAndIncrement() % WINDOW)] = latencyMs;
            }
        }
    }

    void rejected() {
        rejected.increment();
    }

    void timedOut() {
        timedOut.increment();
    }

    void batch(int rows, long queuedMicros, long computedMicros) {
        batchesExecuted.increment();
        rowsPredicted.add(rows);
        batchSizes.computeIfAbsent(rows, k -> new LongAdder()).increment();
        queueMicros.add(queuedMicros);
        computeMicros.add(computedMicros);
    }

    public long rejectedTotal() {
        return rejected.sum();
    }

    public long rowsPredicted() {
        return rowsPredicted.sum();
    }

    public long batchesExecuted() {
        return batchesExecuted.sum();
    }

    public Map<Integer, Long> batchSizeHistogram() {
        Map<Integer, Long> h = new TreeMap<>();
        batchSizes.forEach((k, v) -> h.put(k, v.sum()));
        return h;
    }

    ObjectNode toJson(ObjectMapper m, int queueDepth) {
        ObjectNode o = m.createObjectNode();
        ObjectNode byStatus = o.putObject("responses_by_status");
        new TreeMap<>(responsesByStatus).forEach((k, v) -> byStatus.put(Integer.toString(k), v.sum()));
        o.put("rows_predicted", rowsPredicted.sum());
        o.put("batches_executed", batchesExecuted.sum());
        o.put("rejected_total", rejected.sum());
        o.put("timed_out_total", timedOut.sum());
        o.put("queue_depth", queueDepth);
        o.put("queue_us_sum", queueMicros.sum());
        o.put("compute_us_sum", computeMicros.sum());
        ObjectNode hist = o.putObject("batch_sizes");
        batchSizeHistogram().forEach((k, v) -> hist.put(Integer.toString(k), v));
        double[] l;
        synchronized (latenciesMs) {
            l = Arrays.copyOf(latenciesMs, (int) Math.min(latencyCount.get(), WINDOW));
        }
        int n = l.length;
        Arrays.sort(l);
        ObjectNode lat = o.putObject("latency_ms");
        lat.put("count", latencyCount.get());
        if (n > 0) {
            lat.put("p50", l[(int) (0.50 * (n - 1))]);
            lat.put("p90", l[(int) (0.90 * (n - 1))]);
            lat.put("p99", l[(int) (0.99 * (n - 1))]);
            lat.put("max", l[n - 1]);
        }
        return o;
    }
}
