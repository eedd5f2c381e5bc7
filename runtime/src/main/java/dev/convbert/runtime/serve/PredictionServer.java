package dev.convbert.runtime.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.predict.TokenRows;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.TextPair;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    /**
     * Limits and batching; {@link #defaults()} suits a CPU host.
     *
     * @param httpThreads  connections served at once; more are refused at once (closed) rather than queued
     * @param passesAtOnce micro-batches run at the same time ({@code serve} uses {@code OrtModel.concurrentPasses})
     */
    public record Options(String host, int port, int maxBatch, long maxWaitMs, int queueCapacity, int maxBodyBytes,
                          int maxInputs, int maxTextChars, long defaultTimeoutMs, long maxTimeoutMs, int maxLength,
                          int httpThreads, String modelName, Map<String, String> card, int passesAtOnce) {
        public static Options defaults() {
            return new Options("127.0.0.1", 8080, 32, 5, 512, 1 << 20, 64, 10_000, 30_000, 120_000, 128, 256, "convbert", Map.of(), 1);
        }

        public Options withHost(String h) {
            return new Options(h, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, passesAtOnce);
        }

        public Options withPort(int p) {
            return new Options(host, p, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, passesAtOnce);
        }

        /** Up to {@code rows} rows per forward pass, a row waiting at most {@code waitMs} for company. */
        public Options withBatching(int rows, long waitMs) {
            return new Options(host, port, rows, waitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, passesAtOnce);
        }

        public Options withQueueCapacity(int rows) {
            return new Options(host, port, maxBatch, maxWaitMs, rows, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, passesAtOnce);
        }

        public Options withRequestLimits(int bodyBytes, int inputs, int textChars) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, bodyBytes, inputs, textChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, passesAtOnce);
        }

        /** The timeout a request gets by default, and the most it may ask for (never less than the default). */
        public Options withTimeouts(long defaultMs, long maxMs) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultMs, Math.max(defaultMs, maxMs), maxLength, httpThreads, modelName, card, passesAtOnce);
        }

        /** The name clients use in the Open Inference Protocol's /v2/models/{name} paths. */
        public Options withModelName(String name) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, name, card, passesAtOnce);
        }

        /** What the page and GET /v1/model show about the model (task, training-time metric, precision, …). */
        public Options withCard(Map<String, String> modelCard) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, Map.copyOf(modelCard), passesAtOnce);
        }

        /**
         * Up to {@code n} micro-batches run at once (give the session 1/n of the threads): more rows per second under
         * load, as passes of short rows gain little from a second core.
         */
        public Options withPassesAtOnce(int n) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, n);
        }

        /** Texts are truncated to {@code tokens} (the model's positions bound it too). */
        public Options withMaxLength(int tokens) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, tokens, httpThreads, modelName, card, passesAtOnce);
        }

        public Options withHttpThreads(int threads) {
            return new Options(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, threads, modelName, card, passesAtOnce);
        }
    }

    static final String VERSION = "0.1.0";
    private static final Set<String> REQUEST_FIELDS = Set.of("inputs", "timeout_ms");
    /**
     * A request's line, headers and body must arrive within this many seconds, or the JDK server closes the
     * connection (its {@code sun.net.httpserver.maxReqTime}, read once per JVM when the first server starts): a client
     * that sends slowly cannot hold a handler thread.
     */
    static final int REQUEST_READ_SECONDS = 5;
    private static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";
    private static final Set<String> INPUT_FIELDS = Set.of("text_a", "text_b", "input_ids", "token_type_ids", "attention_mask");

    private final Predictor predictor;
    private final BertTokenizer tokenizer;
    private final Options options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final MicroBatcher batcher;
    private final HttpServer http;
    private final ExecutorService executor;
    private final ObjectMapper json = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private final OpenInferenceProtocol v2;
    private volatile boolean ready;
    private volatile boolean closed;

    private PredictionServer(Predictor predictor, BertTokenizer tokenizer, Options options) throws IOException {
        this.predictor = predictor;
        this.tokenizer = tokenizer;
        this.options = options;
        this.batcher = new MicroBatcher(predictor, options.maxBatch(), options.maxWaitMs(), options.queueCapacity(), metrics,
                options.passesAtOnce());
        metrics.queueDepth(batcher::queueDepth);
        this.v2 = new OpenInferenceProtocol(json, options.modelName(), tokenizer, options, new OpenInferenceProtocol.Backend() {
            @Override
            public boolean ready() {
                return serving();
            }

            @Override
            public dev.convbert.core.config.ConvBertConfig config() {
                return predictor.config();
            }

            @Override
            public OpenInferenceProtocol.Result infer(List<Encoding> rows, long timeoutMs) {
                return await(batcher.submit(rows, timeoutMs), timeoutMs);
            }
        });
        if (System.getProperty(MAX_REQ_TIME) == null) {
            System.setProperty(MAX_REQ_TIME, Integer.toString(REQUEST_READ_SECONDS));
        }
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
    public static PredictionServer start(Predictor predictor, BertTokenizer tokenizer, Options options) throws IOException {
        PredictionServer s = new PredictionServer(predictor, tokenizer, options);
        s.http.start();
        long warmStart = System.nanoTime();
        try {
            Encoding warm = tokenizer.encode("warm up", options.maxLength());
            predictor.run(new long[][]{toLong(warm.inputIds())}, new long[][]{toLong(warm.tokenTypeIds())},
                    new long[][]{ones(warm.length())}, false);
        } catch (RuntimeException | Error e) {
            s.close();      // a server that cannot warm up must not keep its port
            throw e;
        }
        s.metrics.warmUp((System.nanoTime() - warmStart) / 1e9);
        s.ready = true;
        return s;
    }

    /** Every route, for the 404 answer; {@link #routing} declares them. */
    static final String ROUTES = "GET / (a page to try the model), POST /v1/predict, GET /v1/model, GET /v2,"
            + " GET /v2/health/live, GET /v2/health/ready, GET /v2/models/NAME, GET /v2/models/NAME/ready,"
            + " POST /v2/models/NAME/infer, GET /health, GET /health/live, GET /metrics, GET /metrics.json";

    /** The single place routes are declared. */
    private void routing(HttpServer server) {
        server.createContext("/v1/predict", ex -> handle(ex, "POST", this::predict));
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

    /** Triton's binary tensor data extension: a JSON header of this length followed by raw tensor bytes. */
    private static final String BINARY_HEADER = "Inference-Header-Content-Length";

    /** The Open Inference Protocol (KServe V2 / Triton HTTP) on the same batcher and limits. */
    private void openInference(HttpExchange e) throws IOException {
        long start = System.nanoTime();
        byte[] body = e.getRequestMethod().equals("POST") ? readLimited(e.getRequestBody(), options.maxBodyBytes()) : new byte[0];
        OpenInferenceProtocol.Reply r = body == null
                ? new OpenInferenceProtocol.Reply(413, json.createObjectNode().put("error", "request body exceeds " + options.maxBodyBytes() + " bytes"))
                : e.getRequestHeaders().containsKey(BINARY_HEADER)
                ? new OpenInferenceProtocol.Reply(400, json.createObjectNode().put("error", "the request carries Triton's binary tensor"
                        + " extension (" + BINARY_HEADER + "), which this server does not read; send tensors as JSON data"
                        + " (tritonclient: binary_data=False on every InferInput and InferRequestedOutput)"))
                : v2.handle(e.getRequestMethod(), e.getRequestURI().getPath(), body);
        reply(e, r.status(), r.body());
        boolean infer = e.getRequestURI().getPath().endsWith("/infer");
        metrics.response(infer ? "/v2/infer" : "/v2", r.status(), infer ? (System.nanoTime() - start) / 1e6 : 0);
    }

    /** Waits for every row of a request, within its deadline; the status and message that replace the rows otherwise. */
    private OpenInferenceProtocol.Result await(List<CompletableFuture<float[]>> futures, long timeout) {
        if (futures == null) {
            metrics.rejected();
            return new OpenInferenceProtocol.Result(null, 503, "queue full (" + options.queueCapacity() + " rows); retry later");
        }
        List<float[]> out = new ArrayList<>(futures.size());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
        try {
            for (CompletableFuture<float[]> f : futures) {
                long left = Math.max(1, deadline - System.nanoTime());
                out.add(f.get(left, TimeUnit.NANOSECONDS));
            }
            return new OpenInferenceProtocol.Result(out, 200, null);
        } catch (TimeoutException | ExecutionException ex) {
            boolean queueTimeout = ex instanceof TimeoutException || ex.getCause() instanceof MicroBatcher.QueueTimeoutException;
            return queueTimeout ? new OpenInferenceProtocol.Result(null, 504, "request timed out in queue after " + timeout + " ms")
                    : new OpenInferenceProtocol.Result(null, 500, "inference failed: " + ex.getCause().getMessage());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return new OpenInferenceProtocol.Result(null, 503, "server is stopping");
        }
    }

    private boolean serving() {
        return ready && !closed && batcher.failure().isEmpty();
    }

    /** Prometheus's text format, for a scraper; the same counters as JSON are at /metrics.json. */
    private void prometheus(HttpExchange e) throws IOException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        metrics.writePrometheus(body);
        e.getResponseHeaders().set("Content-Type", ServerMetrics.prometheusContentType());
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
        byte[] page;
        try (java.io.InputStream in = PredictionServer.class.getResourceAsStream("index.html")) {
            page = in.readAllBytes();
        }
        e.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        e.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'");
        e.sendResponseHeaders(200, page.length);
        try (OutputStream out = e.getResponseBody()) {
            out.write(page);
        }
    }

    private void notFound(HttpExchange e) throws IOException {
        error(e, 404, "no such endpoint: " + e.getRequestURI().getPath() + "; expected " + ROUTES, null);
    }

    private void predict(HttpExchange e) throws IOException {
        long start = System.nanoTime();
        if (closed || !ready || batcher.failure().isPresent()) {
            error(e, 503, "server is " + (batcher.failure().isPresent() ? "failed (see /health)" : closed ? "stopping" : "starting"), null);
            return;
        }
        byte[] body = readLimited(e.getRequestBody(), options.maxBodyBytes());
        if (body == null) {
            error(e, 413, "request body exceeds " + options.maxBodyBytes() + " bytes", null);
            return;
        }
        JsonNode req;
        try {
            req = json.readTree(StrictUtf8.decode(body));
        } catch (InvalidInputException ex) {
            error(e, 400, ex.getMessage(), null);
            return;
        } catch (JsonProcessingException ex) {
            error(e, 400, "body is not valid JSON: " + ex.getOriginalMessage(), null);
            return;
        }
        if (req == null || !req.isObject()) {
            error(e, 400, "body must be a JSON object {\"inputs\": [...]}", null);
            return;
        }
        String unknown = unknownField(req, REQUEST_FIELDS);
        if (unknown != null) {
            error(e, 400, "unknown field \"" + unknown + "\"; expected " + REQUEST_FIELDS, unknown);
            return;
        }
        JsonNode inputs = req.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            error(e, 400, "\"inputs\" must be a non-empty array of {\"text_a\": …, \"text_b\": …}", "inputs");
            return;
        }
        if (inputs.size() > options.maxInputs()) {
            error(e, 413, inputs.size() + " inputs in one request; the limit is " + options.maxInputs(), "inputs");
            return;
        }
        long timeout = options.defaultTimeoutMs();
        if (req.has("timeout_ms")) {
            if (!req.get("timeout_ms").canConvertToLong() || req.get("timeout_ms").asLong() <= 0) {
                error(e, 400, "\"timeout_ms\" must be a positive integer", "timeout_ms");
                return;
            }
            timeout = Math.min(req.get("timeout_ms").asLong(), options.maxTimeoutMs());
        }
        List<Encoding> rows = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode in = inputs.get(i);
            String where = "inputs[" + i + "]";
            if (!in.isObject()) {
                error(e, 400, where + " must be an object", where);
                return;
            }
            String bad = unknownField(in, INPUT_FIELDS);
            if (bad != null) {
                error(e, 400, where + ": unknown field \"" + bad + "\"; expected " + INPUT_FIELDS, where + "." + bad);
                return;
            }
            try {
                if (in.has("input_ids") || in.has("token_type_ids") || in.has("attention_mask")) {
                    rows.add(idRow(in, where));
                    continue;
                }
                TextPair texts = TextPair.parse(in, where);
                if (texts.chars() > options.maxTextChars()) {
                    error(e, 413, where + ": " + texts.chars() + " characters; the limit is " + options.maxTextChars(), where);
                    return;
                }
                rows.add(texts.encode(tokenizer, Math.min(options.maxLength(), predictor.config().maxPositionEmbeddings())));
            } catch (InvalidInputException ex) {
                error(e, 400, ex.getMessage(), where);
                return;
            }
        }
        OpenInferenceProtocol.Result result = await(batcher.submit(rows, timeout), timeout);
        if (result.error() != null) {
            if (result.status() == 503) {
                e.getResponseHeaders().add("Retry-After", "1");
            }
            error(e, result.status(), result.error(), null);
            return;
        }
        ArrayNode outputs = json.createArrayNode();
        result.logits().forEach(l -> outputs.add(output(l)));
        ObjectNode res = json.createObjectNode();
        res.set("outputs", outputs);
        reply(e, 200, res);
        metrics.response(endpoint(e), 200, (System.nanoTime() - start) / 1e6);
    }

    /** One {@code {"input_ids", "token_type_ids"?, "attention_mask"?}} input (right-padded), checked against the config. */
    private Encoding idRow(JsonNode in, String where) {
        if (in.has("text_a") || in.has("text_b")) {
            throw new InvalidInputException(where + ": give text_a (and text_b) or input_ids (with token_type_ids,"
                    + " attention_mask), not both");
        }
        long[] ids = longs(in, "input_ids", where, -1);
        long[] types = in.has("token_type_ids") ? longs(in, "token_type_ids", where, ids.length) : null;
        long[] mask = in.has("attention_mask") ? longs(in, "attention_mask", where, ids.length) : null;
        return TokenRows.rightPadded(predictor.config(), ids, types, mask, where);
    }

    private static long[] longs(JsonNode in, String field, String where, int length) {
        JsonNode a = in.get(field);
        if (a == null || !a.isArray()) {
            throw new InvalidInputException(where + ": \"" + field + "\" must be an array of integers");
        }
        if (length >= 0 && a.size() != length) {
            throw new InvalidInputException(where + ": \"" + field + "\" has " + a.size() + " entries but input_ids has " + length);
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!a.get(i).isIntegralNumber() || !a.get(i).canConvertToLong()) {
                throw new InvalidInputException(where + ": " + field + "[" + i + "] is not an integer");
            }
            out[i] = a.get(i).asLong();
        }
        return out;
    }

    /**
     * One row's answer: {@code logits} always; for a classifier also {@code label}, its probability {@code score},
     * {@code probabilities} by class index and {@code scores} by label name; for regression {@code score} = the output.
     */
    private ObjectNode output(float[] logits) {
        ObjectNode o = json.createObjectNode();
        ArrayNode raw = o.putArray("logits");
        for (float v : logits) {
            raw.add(v);
        }
        if (predictor.config().isRegression()) {
            o.put("score", logits[0]);
            return o;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        int best = 0;
        ObjectNode scores = json.createObjectNode();
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
            scores.put(predictor.config().id2label().get(i), p[i]);
            if (p[i] > p[best]) {
                best = i;
            }
        }
        ArrayNode probabilities = json.createArrayNode();
        for (double v : p) {
            probabilities.add(v);
        }
        o.put("label", predictor.config().id2label().get(best));
        o.put("score", p[best]);
        o.set("probabilities", probabilities);
        o.set("scores", scores);
        return o;
    }

    private static String unknownField(JsonNode node, Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                return f;
            }
        }
        return null;
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

    private static long[] toLong(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static long[] ones(int n) {
        long[] m = new long[n];
        java.util.Arrays.fill(m, 1);
        return m;
    }
}
