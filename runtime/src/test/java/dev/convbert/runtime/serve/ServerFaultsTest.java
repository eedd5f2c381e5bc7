package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
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

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.convbert.runtime.serve.ServerTest.get;
import static dev.convbert.runtime.serve.ServerTest.json;
import static dev.convbert.runtime.serve.ServerTest.post;
import static dev.convbert.runtime.serve.ServerTest.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Faults and hostile clients, on loopback: each of these failed before the fix that its comment names. */
@org.junit.jupiter.api.Timeout(90)   // it talks to sockets, threads or processes: never hang the build
class ServerFaultsTest {

    /** Delegates to the tiny model; {@code fault} is thrown from the chosen place once set. */
    static final class Faulty implements Predictor {
        volatile RuntimeException configFault;
        volatile Error runFault;

        @Override public ConvBertConfig config() {
            if (configFault != null) {
                throw configFault;
            }
            return model.config();
        }
        @Override public boolean hasClassificationHead() { return true; }
        @Override public Optional<String> vocabSha256() { return Optional.empty(); }
        @Override public Optional<java.nio.file.Path> vocab() { return Optional.empty(); }
        @Override public void close() {}

        @Override
        public Output run(long[][] ids, long[][] types, long[][] mask, boolean hidden) {
            if (runFault != null) {
                throw runFault;
            }
            return model.run(ids, types, mask, hidden);
        }
    }

    static OrtModel model;
    static BertTokenizer tokenizer;

    @BeforeAll
    static void load() throws java.io.IOException {
        model = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu());
        tokenizer = new BertTokenizer(Vocab.read(TinyModel.VOCAB));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The 500 path answered on an exchange it had already closed: clients saw a reset, not the JSON error. */
    @Test
    void aHandlerFaultAnswersJson500() throws Exception {
        Faulty f = new Faulty();
        try (PredictionServer server = PredictionServer.start(f, tokenizer, ServerOptions.defaults().withPort(0))) {
            f.configFault = new IllegalStateException("boom");
            HttpResponse<String> r = post(server.port(), request("fine", null));
            assertEquals(500, r.statusCode(), r.body());
            assertEquals("internal error: IllegalStateException", json.readTree(r.body()).get("error").asText());
        }
    }

    /** An Error killed the batching worker while /health stayed 200 and every later request timed out. */
    @Test
    void anErrorInTheModelTurnsHealthTo503AndRequestsFailFast() throws Exception {
        Faulty f = new Faulty();
        try (PredictionServer server = PredictionServer.start(f, tokenizer, ServerOptions.defaults().withPort(0))) {
            f.runFault = new OutOfMemoryError("simulated");
            assertEquals(500, post(server.port(), request("first", null)).statusCode());
            HttpResponse<String> health = get(server.port(), "/health");
            assertEquals(503, health.statusCode(), health.body());
            JsonNode h = json.readTree(health.body());
            assertEquals("failed", h.get("status").asText());
            assertTrue(h.get("error").asText().contains("OutOfMemoryError"), h.toString());
            long start = System.nanoTime();
            assertEquals(503, post(server.port(), request("second", null)).statusCode());
            assertTrue(System.nanoTime() - start < 2_000_000_000L, "answered at once, not after the queue timeout");
        }
    }

    /** A server whose warm-up failed kept its HTTP port open. */
    @Test
    void aFailedWarmUpReleasesThePort() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Faulty f = new Faulty();
        f.runFault = new OutOfMemoryError("warm-up");
        int p = port;
        assertThrows(OutOfMemoryError.class, () -> PredictionServer.start(f, tokenizer, ServerOptions.defaults().withPort(p)));
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress("127.0.0.1", port));
        }
    }

    /** The JDK matches contexts by prefix: /v1/predictXYZ reached the predict handler. */
    @Test
    void unknownPathsAre404() throws Exception {
        try (PredictionServer server = PredictionServer.start(model, tokenizer, ServerOptions.defaults().withPort(0))) {
            for (String path : List.of("/v1/predictXYZ", "/healthz", "/metricsX", "/nope")) {
                assertEquals(404, get(server.port(), path).statusCode(), path);
            }
            assertEquals(200, get(server.port(), "/health").statusCode());
        }
    }

    /**
     * 100 connections that send half a request and then nothing, held for 10 s: /health and a prediction still answer
     * within 3 s throughout (a starved server would wait out the slow clients' 5 s read time; 3 s leaves room for a
     * loaded 2-core CI machine), and the server cuts the slow connections after its request read time. Loopback only,
     * bounded in count and time.
     */
    @Test
    void slowClientsDoNotStarveTheServer() throws Exception {
        try (PredictionServer server = PredictionServer.start(model, tokenizer, ServerOptions.defaults().withPort(0))) {
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    Socket s = new Socket("127.0.0.1", server.port());
                    OutputStream out = s.getOutputStream();
                    String head = i % 2 == 0 ? "POST /v1/predict HTTP/1.1\r\nHost: x\r\n"                     // headers never end
                            : "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\": [";  // body never ends
                    out.write(head.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    slow.add(s);
                }
                long end = System.nanoTime() + 10_000_000_000L;
                int rounds = 0;
                while (System.nanoTime() < end) {
                    long t = System.nanoTime();
                    assertEquals(200, get(server.port(), "/health").statusCode());
                    assertEquals(200, post(server.port(), request("still answering", null)).statusCode());
                    long ms = (System.nanoTime() - t) / 1_000_000;
                    assertTrue(ms < 3000, "health + prediction took " + ms + " ms under 100 slow connections");
                    rounds++;
                    Thread.sleep(1000);
                }
                assertTrue(rounds >= 3, "rounds: " + rounds);
                int cut = 0;
                for (Socket s : slow) {
                    s.setSoTimeout(100);
                    try {
                        if (s.getInputStream().read() == -1) {
                            cut++;
                        }
                    } catch (java.io.IOException e) {
                        cut++;       // reset or timed out reading; counted only when closed
                        if (e instanceof java.net.SocketTimeoutException) {
                            cut--;
                        }
                    }
                }
                assertEquals(100, cut, "the server closed every slow connection within the 10 s");
            } finally {
                for (Socket s : slow) {
                    s.close();
                }
            }
        }
    }
}
