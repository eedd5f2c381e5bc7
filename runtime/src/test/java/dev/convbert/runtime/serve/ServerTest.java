package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.TinyModel;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server on loopback (port 0) with the committed tiny model. */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class ServerTest {
    static OrtModel model;
    static BertTokenizer tokenizer;
    static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void load() throws IOException {
        model = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu());
        tokenizer = new BertTokenizer(Vocab.read(TinyModel.VOCAB));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static HttpResponse<String> post(int port, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/predict"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String request(String a, String b) {
        var in = json.createObjectNode();
        var arr = in.putArray("inputs");
        var o = arr.addObject().put("text_a", a);
        if (b != null) {
            o.put("text_b", b);
        }
        return in.toString();
    }

    /** With one micro-batch at a time and with two side by side ({@code serve --workers 2}). */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void concurrentRequestsGetTheirOwnAnswers(int passesAtOnce) throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            texts.add("review number " + i + " " + "really ".repeat(i % 17) + (i % 3 == 0 ? "good" : "bad"));
        }
        List<float[]> alone = new ArrayList<>();
        for (String t : texts) {
            var e = tokenizer.encode(t, 128);
            long[] ids = new long[e.length()];
            long[] mask = new long[e.length()];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = e.inputIds()[j];
                mask[j] = 1;
            }
            alone.add(model.run(new long[][]{ids}, new long[][]{new long[ids.length]}, new long[][]{mask}, false).logits()[0]);
        }
        var opts = ServerOptions.defaults().withPort(0).withPassesAtOnce(passesAtOnce);
        try (PredictionServer server = PredictionServer.start(model, tokenizer, opts)) {
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<HttpResponse<String>>> responses = new ArrayList<>();
            for (String t : texts) {
                responses.add(pool.submit(() -> post(server.port(), request(t, null))));
            }
            for (int i = 0; i < texts.size(); i++) {
                HttpResponse<String> r = responses.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                JsonNode out = json.readTree(r.body()).get("outputs").get(0);
                double p1 = softmax(alone.get(i))[1];
                assertEquals(p1, out.get("scores").get("1").asDouble(), 1e-5, "request " + i + " answered as if alone");
            }
            pool.shutdown();
            JsonNode metrics = json.readTree(get(server.port(), "/metrics.json").body());
            assertEquals(120, metrics.get("rows_predicted").asInt());
            assertTrue(metrics.get("batches_executed").asInt() < 120, "requests were batched: " + metrics);
            assertEquals(0, metrics.get("queue_depth").asInt());
            assertEquals(120, metrics.get("responses_by_status").get("200").asInt());
        }
    }

    @Test
    void badRequestsAreRejectedWithJsonErrorsAndTheServerLives() throws Exception {
        var opts = ServerOptions.defaults().withPort(0).withBatching(8, 2).withQueueCapacity(64)
                .withRequestLimits(2048, 4, 200).withTimeouts(5000, 10000).withHttpThreads(8);
        try (PredictionServer server = PredictionServer.start(model, tokenizer, opts)) {
            int port = server.port();
            assertEquals(400, post(port, "{not json").statusCode());
            HttpResponse<String> unknown = post(port, "{\"inputs\": [{\"text_a\": \"x\", \"text_c\": \"y\"}]}");
            assertEquals(400, unknown.statusCode());
            assertEquals("inputs[0].text_c", json.readTree(unknown.body()).get("field").asText());
            assertEquals(400, post(port, "{\"inputs\": [], \"foo\": 1}").statusCode());
            assertEquals(400, post(port, "{\"inputs\": []}").statusCode());
            assertEquals(400, post(port, "{\"inputs\": [{\"text_a\": 5}]}").statusCode());
            assertEquals(413, post(port, "{\"inputs\": [{\"text_a\": \"" + "x".repeat(5000) + "\"}]}").statusCode());
            assertEquals(413, post(port, "{\"inputs\": [{\"text_a\": \"" + "x".repeat(300) + "\"}]}").statusCode());
            assertEquals(413, post(port, "{\"inputs\": [{\"text_a\": \"a\"},{\"text_a\": \"a\"},{\"text_a\": \"a\"},{\"text_a\": \"a\"},{\"text_a\": \"a\"}]}").statusCode());
            assertEquals(404, get(port, "/v2/nothing").statusCode());
            assertEquals(405, get(port, "/v1/predict").statusCode());
            assertTrue(json.readTree(post(port, "{\"x\":1}").body()).has("error"));
            assertEquals(200, post(port, request("still alive", "and well")).statusCode());
            assertEquals(200, get(port, "/health").statusCode());
            assertEquals(200, get(port, "/health/live").statusCode());
        }
    }

    /**
     * Every {@code curl … -d '…'} request in README.md and docs/SERVING.md, sent as written, answers 200; /v1/predict
     * answers with the fields SERVING.md names (logits, label, probabilities), for texts and for ids alike.
     */
    @Test
    void theDocumentedRequestsGiveTheDocumentedFields() throws Exception {
        var opts = ServerOptions.defaults().withPort(0).withModelName("sst2");
        try (PredictionServer server = PredictionServer.start(model, tokenizer, opts)) {
            int documented = 0;
            for (java.nio.file.Path doc : List.of(TinyModel.TESTDATA.resolve("../README.md"), TinyModel.TESTDATA.resolve("../docs/SERVING.md"))) {
                var m = java.util.regex.Pattern.compile("curl -s localhost:8080(/\\S+) -d '([^']*)'").matcher(java.nio.file.Files.readString(doc));
                while (m.find()) {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + m.group(1)))
                            .POST(HttpRequest.BodyPublishers.ofString(m.group(2))).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), doc + ": " + m.group(0) + " -> " + r.body());
                    documented++;
                }
            }
            assertTrue(documented >= 3, "the docs show requests: " + documented);

            JsonNode text = json.readTree(post(server.port(), request("a gripping, funny film", null)).body()).get("outputs").get(0);
            var e = tokenizer.encode("a gripping, funny film", 128);
            StringBuilder ids = new StringBuilder();
            for (int id : e.inputIds()) {
                ids.append(ids.length() == 0 ? "" : ",").append(id);
            }
            HttpResponse<String> r = post(server.port(), "{\"inputs\": [{\"input_ids\": [" + ids + ", 0, 0], \"attention_mask\": ["
                    + "1,".repeat(e.length()) + "0, 0]}]}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode fromIds = json.readTree(r.body()).get("outputs").get(0);
            for (JsonNode out : List.of(text, fromIds)) {
                assertEquals(2, out.get("logits").size(), out.toString());
                assertEquals(2, out.get("probabilities").size(), out.toString());
                assertEquals(1.0, out.get("probabilities").get(0).asDouble() + out.get("probabilities").get(1).asDouble(), 1e-9);
                assertTrue(out.get("label").isTextual() && out.has("score") && out.has("scores"), out.toString());
            }
            for (int c = 0; c < 2; c++) {
                assertEquals(text.get("logits").get(c).floatValue(), fromIds.get("logits").get(c).floatValue(), 1e-6);
            }
            HttpResponse<String> badType = post(server.port(), "{\"inputs\": [{\"input_ids\": [101, 102], \"token_type_ids\": [0, 7]}]}");
            assertEquals(400, badType.statusCode(), badType.body());
            assertTrue(badType.body().contains("inputs[0]: token_type_ids[1] = 7"), badType.body());
            HttpResponse<String> both = post(server.port(), "{\"inputs\": [{\"text_a\": \"x\", \"input_ids\": [101, 102]}]}");
            assertEquals(400, both.statusCode(), both.body());
        }
    }

    /** Blocks every forward pass until released, so the queue can be filled deterministically. */
    static final class Blocking implements Predictor {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);
        volatile boolean block;

        @Override public ConvBertConfig config() { return model.config(); }
        @Override public Optional<java.nio.file.Path> vocab() { return Optional.empty(); }
        @Override public void close() {}
        @Override public boolean hasClassificationHead() { return true; }
        @Override public Optional<String> vocabSha256() { return Optional.empty(); }

        @Override
        public Output run(long[][] ids, long[][] types, long[][] mask, boolean hidden) {
            if (block) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return model.run(ids, types, mask, hidden);
        }
    }

    @Test
    void fullQueueAnswers503FastAndRecovers() throws Exception {
        Blocking blocking = new Blocking();
        // queue of 8 rows, one row per batch: the first request occupies the worker, 8 fill the queue, 2 are refused
        var opts = ServerOptions.defaults().withPort(0).withBatching(1, 0).withQueueCapacity(8)
                .withTimeouts(30_000, 60_000).withHttpThreads(32);
        try (PredictionServer server = PredictionServer.start(blocking, tokenizer, opts)) {
            blocking.block = true;
            ExecutorService pool = Executors.newFixedThreadPool(16);
            Future<HttpResponse<String>> first = pool.submit(() -> post(server.port(), request("first", null)));
            assertTrue(blocking.entered.await(10, TimeUnit.SECONDS));
            List<Future<HttpResponse<String>>> queued = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                queued.add(pool.submit(() -> post(server.port(), request("queued", null))));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (server.metrics().rejectedTotal() == 0 && queueDepth(server) < 8) {
                assertTrue(System.nanoTime() < deadline, "the queue never filled: " + queueDepth(server) + " rows");
                Thread.sleep(5);                  // polling the queue depth, with a deadline
            }
            long t0 = System.nanoTime();
            HttpResponse<String> r1 = post(server.port(), request("one too many", null));
            HttpResponse<String> r2 = post(server.port(), request("two too many", null));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(503, r1.statusCode());
            assertEquals(503, r2.statusCode());
            assertEquals("1", r1.headers().firstValue("Retry-After").orElse(""));
            // immediate, not after the 30 s a queued request may wait (a loaded CI machine still answers in well under 10 s)
            assertTrue(ms < 10_000, "rejections are immediate: " + ms + " ms");
            blocking.release.countDown();
            assertEquals(200, first.get().statusCode());
            for (var f : queued) {
                assertEquals(200, f.get().statusCode(), "queued requests are answered after release, none lost");
            }
            assertEquals(2, server.metrics().rejectedTotal());
            assertEquals(200, post(server.port(), request("recovered", null)).statusCode());
            pool.shutdown();
        }
    }

    @Test
    void requestTimingOutInQueueIsNotExecuted() throws Exception {
        Blocking blocking = new Blocking();
        var opts = ServerOptions.defaults().withPort(0).withBatching(1, 0).withQueueCapacity(8)
                .withTimeouts(30_000, 60_000).withHttpThreads(8);
        try (PredictionServer server = PredictionServer.start(blocking, tokenizer, opts)) {
            blocking.block = true;
            ExecutorService pool = Executors.newFixedThreadPool(4);
            Future<HttpResponse<String>> first = pool.submit(() -> post(server.port(), request("blocker", null)));
            assertTrue(blocking.entered.await(10, TimeUnit.SECONDS));
            long before = server.metrics().rowsPredicted();
            HttpResponse<String> timedOut = post(server.port(), "{\"inputs\": [{\"text_a\": \"late\"}], \"timeout_ms\": 50}");
            assertEquals(504, timedOut.statusCode());
            assertTrue(json.readTree(timedOut.body()).get("error").asText().contains("timed out in queue after 50 ms"));
            blocking.release.countDown();
            assertEquals(200, first.get().statusCode());
            // rows run in queue order: once a later request is answered, the timed-out row would have run by now
            assertEquals(200, post(server.port(), request("after", null)).statusCode());
            assertEquals(before + 2, server.metrics().rowsPredicted(), "the blocker and the later row ran; the timed-out row was dropped");
            pool.shutdown();
        }
    }

    private static int queueDepth(PredictionServer s) throws Exception {
        return json.readTree(get(s.port(), "/metrics.json").body()).get("queue_depth").asInt();
    }

    private static double[] softmax(float[] l) {
        double m = Math.max(l[0], l[1]);
        double a = Math.exp(l[0] - m), b = Math.exp(l[1] - m);
        return new double[]{a / (a + b), b / (a + b)};
    }
}
