package dev.convbert.runtime.serve;

import java.util.Map;

/**
 * What {@code serve} is told: address, batching, limits and the model's name and card. Every default is in
 * {@link Builder}'s fields (the help of {@code serve} reads them from there); {@link #defaults()} suits a CPU host.
 *
 * @param maxLength    texts are cut at this many tokens ({@code serve} sets the model's trained length)
 * @param httpThreads  connections served at once; more are refused at once (closed) rather than queued
 * @param passesAtOnce micro-batches run at the same time ({@code serve} uses {@code OrtModel.concurrentPasses})
 */
public record ServerOptions(String host, int port, int maxBatch, long maxWaitMs, int queueCapacity, int maxBodyBytes,
                            int maxInputs, int maxTextChars, long defaultTimeoutMs, long maxTimeoutMs, int maxLength,
                            int httpThreads, String modelName, Map<String, String> card, int passesAtOnce) {

    public ServerOptions {
        card = Map.copyOf(card);
        maxTimeoutMs = Math.max(defaultTimeoutMs, maxTimeoutMs);     // a request may ask for less, never for more
    }

    public static ServerOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.maxBatch = maxBatch;
        b.maxWaitMs = maxWaitMs;
        b.queueCapacity = queueCapacity;
        b.maxBodyBytes = maxBodyBytes;
        b.maxInputs = maxInputs;
        b.maxTextChars = maxTextChars;
        b.defaultTimeoutMs = defaultTimeoutMs;
        b.maxTimeoutMs = maxTimeoutMs;
        b.maxLength = maxLength;
        b.httpThreads = httpThreads;
        b.modelName = modelName;
        b.card = card;
        b.passesAtOnce = passesAtOnce;
        return b;
    }

    public ServerOptions withHost(String h) {
        return toBuilder().host(h).build();
    }

    public ServerOptions withPort(int p) {
        return toBuilder().port(p).build();
    }

    /** Up to {@code rows} rows per forward pass, a row waiting at most {@code waitMs} for company. */
    public ServerOptions withBatching(int rows, long waitMs) {
        return toBuilder().batching(rows, waitMs).build();
    }

    public ServerOptions withQueueCapacity(int rows) {
        return toBuilder().queueCapacity(rows).build();
    }

    public ServerOptions withRequestLimits(int bodyBytes, int inputs, int textChars) {
        return toBuilder().requestLimits(bodyBytes, inputs, textChars).build();
    }

    /** The timeout a request gets by default, and the most it may ask for (never less than the default). */
    public ServerOptions withTimeouts(long defaultMs, long maxMs) {
        return toBuilder().timeouts(defaultMs, maxMs).build();
    }

    /** The name clients use in the Open Inference Protocol's /v2/models/{name} paths. */
    public ServerOptions withModelName(String name) {
        return toBuilder().modelName(name).build();
    }

    /**
     * Serving the export {@code file}: named after it ({@code sst2.onnx} → {@code sst2}), its card on the page and in
     * the metadata, texts cut at {@code maxLength} (the model's trained length, as {@code ScoringModel} decides it).
     */
    public ServerOptions forModel(java.nio.file.Path file, Map<String, String> card, int maxLength) {
        return toBuilder().modelName(file.getFileName().toString().replaceFirst("\\.onnx$", "")).card(card)
                .maxLength(maxLength).build();
    }

    /**
     * Up to {@code n} micro-batches run at once (give the session 1/n of the threads): more rows per second under
     * load, as passes of short rows gain little from a second core.
     */
    public ServerOptions withPassesAtOnce(int n) {
        return toBuilder().passesAtOnce(n).build();
    }

    public ServerOptions withHttpThreads(int threads) {
        return toBuilder().httpThreads(threads).build();
    }

    /** Every default, once. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private int maxBatch = 32;
        private long maxWaitMs = 5;
        private int queueCapacity = 512;
        private int maxBodyBytes = 1 << 20;
        private int maxInputs = 64;
        private int maxTextChars = 10_000;
        private long defaultTimeoutMs = 30_000;
        private long maxTimeoutMs = 120_000;
        private int maxLength = 128;
        private int httpThreads = 256;
        private String modelName = "convbert";
        private Map<String, String> card = Map.of();
        private int passesAtOnce = 1;

        private Builder() {}

        public Builder host(String h) {
            host = h;
            return this;
        }

        public Builder port(int p) {
            port = p;
            return this;
        }

        public Builder batching(int rows, long waitMs) {
            maxBatch = rows;
            maxWaitMs = waitMs;
            return this;
        }

        public Builder queueCapacity(int rows) {
            queueCapacity = rows;
            return this;
        }

        public Builder requestLimits(int bodyBytes, int inputs, int textChars) {
            maxBodyBytes = bodyBytes;
            maxInputs = inputs;
            maxTextChars = textChars;
            return this;
        }

        public Builder timeouts(long defaultMs, long maxMs) {
            defaultTimeoutMs = defaultMs;
            maxTimeoutMs = maxMs;
            return this;
        }

        public Builder maxLength(int tokens) {
            maxLength = tokens;
            return this;
        }

        public Builder httpThreads(int threads) {
            httpThreads = threads;
            return this;
        }

        public Builder modelName(String name) {
            modelName = name;
            return this;
        }

        public Builder card(Map<String, String> modelCard) {
            card = modelCard;
            return this;
        }

        public Builder passesAtOnce(int n) {
            passesAtOnce = n;
            return this;
        }

        public ServerOptions build() {
            return new ServerOptions(host, port, maxBatch, maxWaitMs, queueCapacity, maxBodyBytes, maxInputs, maxTextChars,
                    defaultTimeoutMs, maxTimeoutMs, maxLength, httpThreads, modelName, card, passesAtOnce);
        }
    }
}
