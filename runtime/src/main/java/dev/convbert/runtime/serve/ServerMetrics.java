package dev.convbert.runtime.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

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

    /** This server's own registry (not the process-wide default: several servers may share a JVM, as in tests). */
    private final PrometheusRegistry registry = new PrometheusRegistry();
    // model and version labels as Triton's nv_inference_* metrics carry them, so dashboards across servers group alike
    private final Counter requests = Counter.builder().name("convbert_requests_total")
            .help("HTTP responses by endpoint and status").labelNames("model", "version", "endpoint", "status").register(registry);
    private final Histogram latency = Histogram.builder().name("convbert_request_duration_seconds")
            .help("Time from request to response of successful predictions").labelNames("model", "version", "endpoint")
            .classicOnly().classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).register(registry);
    private final Histogram batchRows = Histogram.builder().name("convbert_batch_rows")
            .help("Rows per forward pass of the micro-batcher").classicOnly()
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
    private final Counter rejectedTotal = Counter.builder().name("convbert_rejected_total")
            .help("Requests refused because the queue was full (503)").register(registry);
    private final Counter timedOutTotal = Counter.builder().name("convbert_queue_timeouts_total")
            .help("Rows whose deadline passed while queued (504)").register(registry);
    private final Gauge modelLoad = Gauge.builder().name("convbert_model_warmup_seconds")
            .help("Time the model's warm-up batch took when the server started").register(registry);

    private final String model;
    private final String version;

    /** Metrics of the server that serves {@code model} at {@code version}, with the process's and the JVM's own. */
    ServerMetrics(String model, String version) {
        this.model = model;
        this.version = version;
        JvmMetrics.builder().register(registry);          // jvm_* and, with them, the process_* metrics
    }

    /** The queue depth, read at every scrape. */
    void queueDepth(java.util.function.IntSupplier depth) {
        GaugeWithCallback.builder().name("convbert_queue_depth").help("Rows waiting for the micro-batcher")
                .callback(cb -> cb.call(depth.getAsInt())).register(registry);
    }

    void warmUp(double seconds) {
        modelLoad.set(seconds);
    }

    /**
     * Everything above for a scraper: OpenMetrics text when its {@code Accept} header asks for it (Prometheus sends
     * {@code application/openmetrics-text} first), else the Prometheus text format (0.0.4). Returns the content type.
     */
    String writePrometheus(String accept, java.io.OutputStream out) throws java.io.IOException {
        if (accept != null && accept.contains("application/openmetrics-text")) {
            OpenMetricsTextFormatWriter.create().write(out, registry.scrape());
            return OpenMetricsTextFormatWriter.CONTENT_TYPE;
        }
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

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

    void response(String endpoint, int status, double latencyMs) {
        requests.labelValues(model, version, endpoint, Integer.toString(status)).inc();
        if (status == 200 && latencyMs > 0) {
            latency.labelValues(model, version, endpoint).observe(latencyMs / 1000.0);
        }
        response(status, latencyMs);
    }

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
        rejectedTotal.inc();
    }

    void timedOut() {
        timedOut.increment();
        timedOutTotal.inc();
    }

    void batch(int rows, long queuedMicros, long computedMicros) {
        batchRows.observe(rows);
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
