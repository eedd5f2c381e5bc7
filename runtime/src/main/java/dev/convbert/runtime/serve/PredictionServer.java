package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP prediction server, on the JDK's own {@code com.sun.net.httpserver} (no dependency to keep patched; the
 * micro-batcher, limits and metrics are ours either way). Loopback by default.
 *
 * <pre>
 * curl -s localhost:8080/v1/predict -d '{"inputs": [{"text_a": "a gripping, funny film"}]}'
 * curl -s localhost:8080/health        # 200 once the model is loaded and warmed up, 503 while starting/stopping
 * curl -s localhost:8080/health/live   # 200 while the process serves HTTP
 * curl -s localhost:8080/metrics       # Prometheus text format: requests, latency and batch histograms, queue, process
 * curl -s localhost:8080/metrics.json  # the same counters and latency percentiles as JSON
 * </pre>
 * Errors are JSON {@code {"error": "...", "field": "..."}}: 400 bad input, 413 too large, 503 queue full (with
 * Retry-After), 504 timed out in the queue; never a stack trace.
 */
public final class PredictionServer implements AutoCloseable {

    static final String VERSION = "0.1.0";

    private final Predictor predictor;
    private final BertTokenizer tokenizer;
    private final ServerOptions options;
    private final ServerMetrics metrics;
    private final MicroBatcher batcher;
    private final HttpServer http;
    private final ExecutorService executor;
    private final ObjectMapper json = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private final V1Protocol v1;
    private final OpenInferenceProtocol v2;
    private volatile boolean ready;
    private volatile boolean closed;

    private PredictionServer(Predictor predictor, BertTokenizer tokenizer, ServerOptions options) throws IOException {
        this.predictor = predictor;
        this.tokenizer = tokenizer;
        this.options = options;
        this.metrics = new ServerMetrics(options.modelName(), OpenInferenceProtocol.VERSION);
        this.batcher = new MicroBatcher(predictor, options.maxBatch(), options.maxWaitMs(), options.queueCapacity(), metrics,
                options.passesAtOnce());
        metrics.queueDepth(batcher::queueDepth);
        InferenceBackend backend = new InferenceBackend() {
            @Override
            public boolean ready() {
                return serving();
            }

            @Override
            public dev.convbert.core.config.ConvBertConfig config() {
                return predictor.config();
            }

            @Override
            public InferenceBackend.Result infer(List<Encoding> rows, long timeoutMs) {
                return await(batcher.submit(rows, timeoutMs), timeoutMs);
            }
        };
        this.v1 = new V1Protocol(json, tokenizer, options, backend);
        this.v2 = new OpenInferenceProtocol(json, tokenizer, options, backend);
        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 256);
        // one thread per connection up to httpThreads; beyond that the executor refuses and the JDK server closes the
        // connection at once, so a flood of clients costs them a reset, not everyone a timeout
        this.executor = new ThreadPoolExecutor(0, options.httpThreads(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "convbert-http");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        routing(http);
    }

    /** Starts serving; ready once a warm-up batch has run. */
    public static PredictionServer start(Predictor predictor, BertTokenizer tokenizer, ServerOptions options) throws IOException {
        PredictionServer s = new PredictionServer(predictor, tokenizer, options);
        s.http.start();
        long warmStart = System.nanoTime();
        try {
            PaddedBatch warm = PaddedBatch.of(List.of(tokenizer.encode("warm up", options.maxLength())));
            predictor.run(warm.inputIds(), warm.tokenTypeIds(), warm.attentionMask(), false);
        } catch (RuntimeException | Error e) {
            s.close();      // a server that cannot warm up must not keep its port
            throw e;
        }
        s.metrics.warmUp((System.nanoTime() - warmStart) / 1e9);
        s.ready = true;
        return s;
    }

    /** Every route, for the 404 answer; {@link #routing} declares them. */
    static final String ROUTES = "GET / (a page to try the model), POST /v1/predict, GET /v1/model, GET /v1/models/NAME,"
            + " POST /v1/models/NAME:predict (KServe V1), GET /v2,"
            + " GET /v2/health/live, GET /v2/health/ready, GET /v2/models/NAME, GET /v2/models/NAME/ready,"
            + " POST /v2/models/NAME/infer, GET /health, GET /health/live, GET /metrics, GET /metrics.json";

    /** The single place routes are declared. */
    private void routing(HttpServer server) {
        server.createContext("/v1/predict", ex -> handle(ex, "POST", this::predict));
        server.createContext("/v1/models/", ex -> handle(ex, null, this::kserveV1));
        server.createContext("/v2", ex -> handle(ex, null, this::openInference));
        server.createContext("/health/live", ex -> handle(ex, "GET", e -> reply(e, 200, json.createObjectNode().put("status", "live"))));
        server.createContext("/health", ex -> handle(ex, "GET", this::health));
        server.createContext("/metrics", ex -> handle(ex, "GET", this::prometheus));
        server.createContext("/metrics.json", ex -> handle(ex, "GET", e -> reply(e, 200, metrics.toJson(json, batcher.queueDepth()))));
        server.createContext("/v1/model", ex -> handle(ex, "GET", e -> reply(e, 200, card())));
        server.createContext("/", ex -> handle(ex, null, this::pageOrNotFound));
    }

    public int port() {
        return http.getAddress().getPort();
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    private interface Handler {
        void handle(HttpExchange e) throws IOException;
    }

    /** The Open Inference Protocol (KServe V2 / Triton HTTP, with its binary tensor extension) on the same batcher and limits. */
    private void openInference(HttpExchange e) throws IOException {
        long start = System.nanoTime();
        byte[] body = e.getRequestMethod().equals("POST") ? readLimited(e.getRequestBody(), options.maxBodyBytes()) : new byte[0];
        Reply r = body == null
                ? new Reply(413, json.createObjectNode().put("error", "request body exceeds " + options.maxBodyBytes() + " bytes"))
                : v2.handle(e.getRequestMethod(), e.getRequestURI().getPath(), body,
                        e.getRequestHeaders().getFirst(BinaryTensors.HEADER));
        if (r.binary() == null) {
            reply(e, r.status(), r.body());
        } else {
            // the JSON, then the outputs' raw bytes; the header says where the JSON ends (Triton's binary extension)
            byte[] head = json.writeValueAsBytes(r.body());
            e.getResponseHeaders().set("Content-Type", "application/octet-stream");
            e.getResponseHeaders().set(BinaryTensors.HEADER, Integer.toString(head.length));
            e.sendResponseHeaders(r.status(), head.length + r.binary().length);
            try (OutputStream out = e.getResponseBody()) {
                out.write(head);
                out.write(r.binary());
            }
        }
        boolean infer = e.getRequestURI().getPath().endsWith("/infer");
        metrics.response(infer ? "/v2/infer" : "/v2", r.status(), infer ? (System.nanoTime() - start) / 1e6 : 0);
    }

    /** Waits for every row of a request, within its deadline; the status and message that replace the rows otherwise. */
    private InferenceBackend.Result await(List<CompletableFuture<float[]>> futures, long timeout) {
        if (futures == null) {
            metrics.rejected();
            return new InferenceBackend.Result(null, 503, "queue full (" + options.queueCapacity() + " rows); retry later");
        }
        List<float[]> out = new ArrayList<>(futures.size());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
        try {
            for (CompletableFuture<float[]> f : futures) {
                long left = Math.max(1, deadline - System.nanoTime());
                out.add(f.get(left, TimeUnit.NANOSECONDS));
            }
            return new InferenceBackend.Result(out, 200, null);
        } catch (TimeoutException | ExecutionException ex) {
            boolean queueTimeout = ex instanceof TimeoutException || ex.getCause() instanceof MicroBatcher.QueueTimeoutException;
            return queueTimeout ? new InferenceBackend.Result(null, 504, "request timed out in queue after " + timeout + " ms")
                    : new InferenceBackend.Result(null, 500, "inference failed: " + ex.getCause().getMessage());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return new InferenceBackend.Result(null, 503, "server is stopping");
        }
    }

    private boolean serving() {
        return ready && !closed && batcher.failure().isEmpty();
    }

    /** Prometheus's text format, for a scraper; the same counters as JSON are at /metrics.json. */
    private void prometheus(HttpExchange e) throws IOException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        String type = metrics.writePrometheus(e.getRequestHeaders().getFirst("Accept"), body);
        e.getResponseHeaders().set("Content-Type", type);
        e.sendResponseHeaders(200, body.size());
        try (OutputStream out = e.getResponseBody()) {
            body.writeTo(out);
        }
    }

    private void health(HttpExchange e) throws IOException {
        Throwable failed = batcher.failure().orElse(null);
        ObjectNode body = json.createObjectNode().put("status", failed != null ? "failed" : closed ? "stopping"
                : ready ? "ready" : "starting");
        if (failed != null) {
            body.put("error", failed.getClass().getSimpleName() + ": " + failed.getMessage());
        }
        reply(e, ready && !closed && failed == null ? 200 : 503, body);
    }

    /**
     * Runs a route: the exact path only (the JDK matches contexts by prefix, so /v1/predictXYZ would reach
     * /v1/predict), the one method, and a JSON 500 for a fault — sent before the exchange is closed.
     */
    private void handle(HttpExchange e, String method, Handler h) {
        try {
            String path = e.getRequestURI().getPath();
            if (method != null && !path.equals(e.getHttpContext().getPath())) {
                notFound(e);
                return;
            }
            if (method != null && !method.equals(e.getRequestMethod())) {
                e.getResponseHeaders().add("Allow", method);
                error(e, 405, e.getRequestMethod() + " not allowed; use " + method, null);
                return;
            }
            h.handle(e);
        } catch (IOException ex) {
            // the client went away (or was cut off for reading too slowly): nothing to answer
        } catch (RuntimeException | Error ex) {
            if (e.getResponseCode() == -1) {
                try {
                    error(e, 500, "internal error: " + ex.getClass().getSimpleName(), null);
                } catch (IOException ignored) {
                    // the client went away
                }
            }
            if (ex instanceof Error error) {
                throw error;
            }
        } finally {
            e.close();
        }
    }

    /** The route that answered, as a metric label: unknown paths share one label, so clients cannot grow the series. */
    private static String endpoint(HttpExchange e) {
        String context = e.getHttpContext().getPath();
        return context.equals("/") || !context.equals(e.getRequestURI().getPath()) ? "other" : context;
    }

    /** The model card: name, labels and what the export recorded (task, training-time metric, precision). */
    private ObjectNode card() {
        ObjectNode o = json.createObjectNode().put("name", options.modelName());
        ArrayNode labels = o.putArray("labels");
        predictor.config().id2label().forEach(labels::add);
        o.put("regression", predictor.config().isRegression());
        options.card().forEach(o::put);
        return o;
    }

    /** GET / is the page to try the model (static HTML and JS from the jar, no build step); other paths are 404. */
    private void pageOrNotFound(HttpExchange e) throws IOException {
        if (!e.getRequestURI().getPath().equals("/")) {
            notFound(e);
            return;
        }
        if (!e.getRequestMethod().equals("GET")) {
            e.getResponseHeaders().add("Allow", "GET");
            error(e, 405, e.getRequestMethod() + " not allowed; use GET", null);
            return;
        }
        TryPage.send(e);
    }

    private void notFound(HttpExchange e) throws IOException {
        error(e, 404, "no such endpoint: " + e.getRequestURI().getPath() + "; expected " + ROUTES, null);
    }

    /** {@code POST /v1/predict}: the body read within its limit, answered by {@link V1Protocol}. */
    private void predict(HttpExchange e) throws IOException {
        long start = System.nanoTime();
        if (closed || !ready || batcher.failure().isPresent()) {
            error(e, 503, "server is " + (batcher.failure().isPresent() ? "failed (see /health)" : closed ? "stopping" : "starting"), null);
            return;
        }
        answer(e, start, endpoint(e), v1::predict);
    }

    /** KServe V1: {@code GET /v1/models/NAME} (readiness) and {@code POST /v1/models/NAME:predict}. */
    private void kserveV1(HttpExchange e) throws IOException {
        long start = System.nanoTime();
        String rest = e.getRequestURI().getPath().substring("/v1/models/".length());
        boolean predicting = rest.endsWith(":predict");
        String name = predicting ? rest.substring(0, rest.length() - ":predict".length()) : rest;
        if (name.isEmpty() || name.contains("/") || name.contains(":")) {
            notFound(e);
            return;
        }
        if (!name.equals(options.modelName())) {
            error(e, 404, "unknown model \"" + name + "\"; this server serves \"" + options.modelName() + "\"", null);
            return;
        }
        String method = predicting ? "POST" : "GET";
        if (!e.getRequestMethod().equals(method)) {
            e.getResponseHeaders().add("Allow", method);
            error(e, 405, e.getRequestMethod() + " not allowed; use " + method, null);
            return;
        }
        if (!predicting) {
            reply(e, serving() ? 200 : 503, json.createObjectNode().put("name", name).put("ready", serving()));
            return;
        }
        if (!serving()) {
            e.getResponseHeaders().add("Retry-After", "1");
            error(e, 503, "model is not ready", null);
            return;
        }
        answer(e, start, "/v1/models/:predict", v1::kservePredict);
    }

    /**
     * A v1 body, read within the limit (413 past it), answered by {@code protocol}; a 503 says when to retry, and a
     * 200's latency since {@code start} goes to {@code endpoint}'s histogram.
     */
    private void answer(HttpExchange e, long start, String endpoint, java.util.function.Function<byte[], Reply> protocol)
            throws IOException {
        byte[] body = readLimited(e.getRequestBody(), options.maxBodyBytes());
        if (body == null) {
            error(e, 413, "request body exceeds " + options.maxBodyBytes() + " bytes", null);
            return;
        }
        Reply r = protocol.apply(body);
        if (r.status() == 503) {
            e.getResponseHeaders().add("Retry-After", "1");
        }
        reply(e, r.status(), r.body());
        metrics.response(endpoint, r.status(), r.status() == 200 ? (System.nanoTime() - start) / 1e6 : 0);
    }

    private static byte[] readLimited(InputStream in, int limit) throws IOException {
        byte[] data = in.readNBytes(limit + 1);
        return data.length > limit ? null : data;
    }

    private void error(HttpExchange e, int status, String message, String field) throws IOException {
        ObjectNode o = json.createObjectNode().put("error", message);
        if (field != null) {
            o.put("field", field);
        }
        reply(e, status, o);
        if (status != 200) {
            metrics.response(endpoint(e), status, 0);
        }
    }

    private void reply(HttpExchange e, int status, ObjectNode body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        e.getResponseHeaders().set("Content-Type", "application/json");
        e.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = e.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Stops: /health turns 503, queued rows are answered, then the HTTP server stops. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        batcher.close();
        http.stop(1);
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
