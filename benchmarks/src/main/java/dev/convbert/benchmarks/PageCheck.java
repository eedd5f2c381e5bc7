package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.cli.ModelOptions;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.serve.PredictionServer;
import dev.convbert.runtime.serve.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code convbert page-check}: the model page in a real browser. Serves the model on loopback, starts headless
 * Chromium, and through the Chrome DevTools Protocol (JDK WebSocket, no Node or driver) types a sentence, clicks
 * Predict, reads the label, the probability bars and the latency the page shows, and saves a screenshot. Install
 * Chromium with {@code apt-get install chromium} (Debian) or pass {@code --browser PATH}.
 */
@Command(name = "page-check",
        description = "Open the model page (GET /) in headless Chromium, type a sentence, click Predict, read the result, "
                + "save a screenshot and page-check.json. Needs Chromium (apt-get install chromium).",
        footer = "  convbert page-check --model export/sst2.onnx --output runs/page")
public final class PageCheck implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--output", required = true, description = "Directory for page.png and page-check.json.")
    Path output;

    @Option(names = "--browser", defaultValue = "/usr/bin/chromium", description = "Chromium or Chrome (default ${DEFAULT-VALUE}).")
    Path browser;

    @Option(names = "--text", defaultValue = "a gripping, funny and touching film", description = "The sentence to type (default \"${DEFAULT-VALUE}\").")
    String text;

    @Option(names = "--pair-text", defaultValue = "and it stays with you", description = "The second sentence, typed "
            + "when the page asks for one (pair tasks; default \"${DEFAULT-VALUE}\").")
    String pairText;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        if (!Files.isExecutable(browser)) {
            throw new CommandFailedException(browser + ": no browser there; install Chromium (apt-get install chromium) or pass --browser");
        }
        Files.createDirectories(output);
        ObjectNode report;
        try (OrtModel m = OrtModel.open(modelOptions.model(), ExecutionProvider.cpu())) {
            ScoringModel scoring = ScoringModel.classifier(m, modelOptions.spec(), "the model page");
            ServerOptions options = ServerOptions.defaults().withPort(0).forModel(modelOptions.model(), m.card(), scoring.maxLength());
            try (PredictionServer server = PredictionServer.start(m, scoring.tokenizer(), options)) {
                report = drive("http://127.0.0.1:" + server.port() + "/");
            }
        }
        AtomicFiles.writeString(output.resolve("page-check.json"),
                json.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report) + "\n");
        System.out.println("page-check: " + report.get("label").asText() + "; " + report.get("latency").asText()
                + "; screenshot " + output.resolve("page.png"));
        return ExitCodes.OK;
    }

    private ObjectNode drive(String url) throws Exception {
        Path profile = Files.createTempDirectory("convbert-chromium");
        Process chromium = new ProcessBuilder(browser.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-quic", "--window-size=1000,800", "--user-data-dir=" + profile, "--remote-debugging-port=0",
                "about:blank").redirectErrorStream(true).start();
        try {
            String browserWs = devToolsUrl(chromium);
            int port = URI.create(browserWs).getPort();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            JsonNode targets = json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            String pageWs = null;
            for (JsonNode t : targets) {
                if (t.path("type").asText().equals("page")) {
                    pageWs = t.get("webSocketDebuggerUrl").asText();
                }
            }
            if (pageWs == null) {
                throw new CommandFailedException("Chromium opened no page target: " + targets);
            }
            try (DevTools page = new DevTools(http, pageWs)) {
                page.call("Page.enable", Map.of());
                page.call("Page.navigate", Map.of("url", url));
                waitFor(page, "document.readyState === 'complete' && document.getElementById('card').textContent.indexOf('loading') < 0", 15);
                // the second field is there for pair tasks only: type into it when the page shows it
                boolean pairShown = page.eval("!document.getElementById('text_b').hidden").asBoolean();
                page.eval("document.getElementById('text_a').value = " + json.writeValueAsString(text)
                        + (pairShown ? "; document.getElementById('text_b').value = " + json.writeValueAsString(pairText) : "")
                        + "; document.getElementById('predict').click(); true");
                waitFor(page, "!document.getElementById('result').hidden || !document.getElementById('error').hidden", 15);
                JsonNode seen = json.readTree(page.eval("JSON.stringify({error: document.getElementById('error').hidden ? null : "
                        + "document.getElementById('error').textContent, label: document.getElementById('label').textContent, "
                        + "latency: document.getElementById('latency').textContent, card: document.getElementById('card').textContent, "
                        + "bars: Array.from(document.querySelectorAll('.bar')).map(b => ({label: b.dataset.label, "
                        + "probability: Number(b.dataset.probability), width: b.querySelector('.fill').style.width}))})").asText());
                JsonNode shot = page.call("Page.captureScreenshot", Map.of("format", "png"));
                Files.write(output.resolve("page.png"), Base64.getDecoder().decode(shot.get("data").asText()));
                if (!seen.get("error").isNull()) {
                    throw new CommandFailedException("the page shows an error: " + seen.get("error").asText());
                }
                ObjectNode report = (ObjectNode) seen;
                report.put("url", url);
                report.put("typed", text);
                report.put("pair_field_shown", pairShown);
                if (pairShown) {
                    report.put("typed_pair", pairText);
                }
                report.remove("error");
                return report;
            }
        } finally {
            // the renderer and helper processes first, or they keep writing into the profile while it is deleted
            chromium.descendants().forEach(ProcessHandle::destroyForcibly);
            chromium.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            try {
                AtomicFiles.deleteTree(profile);
            } catch (IOException e) {
                System.err.println("warning: could not remove the browser profile " + profile + ": " + e.getMessage());
            }
        }
    }

    private static void waitFor(DevTools page, String condition, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (page.eval("Boolean(" + condition + ")").asBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new CommandFailedException("the page did not reach \"" + condition + "\" within " + seconds + " s");
    }

    /** Chromium prints "DevTools listening on ws://…" once its debugging endpoint is up. */
    private static String devToolsUrl(Process chromium) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(chromium.getInputStream(), StandardCharsets.UTF_8));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        StringBuilder seen = new StringBuilder();
        for (String line; System.nanoTime() < end && (line = r.readLine()) != null; ) {
            if (line.contains("DevTools listening on ")) {
                String ws = line.substring(line.indexOf("ws://"));
                Thread drain = new Thread(() -> {
                    try {
                        r.transferTo(java.io.Writer.nullWriter());
                    } catch (IOException ignored) {
                        // the browser went away
                    }
                }, "chromium-output");
                drain.setDaemon(true);
                drain.start();
                return ws.trim();
            }
            seen.append(line).append('\n');
        }
        throw new CommandFailedException("Chromium did not open its DevTools endpoint:\n" + seen);
    }

    /** A Chrome DevTools Protocol session over the JDK's WebSocket: one call at a time, answers matched by id. */
    private final class DevTools implements AutoCloseable {
        private final WebSocket socket;
        private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();

        DevTools(HttpClient http, String url) {
            StringBuilder partial = new StringBuilder();
            this.socket = http.newWebSocketBuilder().buildAsync(URI.create(url), new WebSocket.Listener() {
                @Override
                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    partial.append(data);
                    if (last) {
                        try {
                            JsonNode msg = json.readTree(partial.toString());
                            CompletableFuture<JsonNode> f = msg.has("id") ? pending.remove(msg.get("id").asInt()) : null;
                            if (f != null) {
                                f.complete(msg);
                            }
                        } catch (IOException e) {
                            pending.values().forEach(p -> p.completeExceptionally(e));
                        }
                        partial.setLength(0);
                    }
                    ws.request(1);
                    return null;
                }
            }).join();
        }

        JsonNode call(String method, Map<String, Object> params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonNode> f = new CompletableFuture<>();
            pending.put(id, f);
            socket.sendText(json.writeValueAsString(Map.of("id", id, "method", method, "params", params)), true).join();
            JsonNode msg = f.get(30, TimeUnit.SECONDS);
            if (msg.has("error")) {
                throw new CommandFailedException("DevTools " + method + " failed: " + msg.get("error"));
            }
            return msg.get("result");
        }

        JsonNode eval(String expression) throws Exception {
            JsonNode r = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
            if (r.has("exceptionDetails")) {
                throw new CommandFailedException("page script failed: " + r.get("exceptionDetails"));
            }
            return r.path("result").path("value");
        }

        @Override
        public void close() {
            socket.abort();
        }
    }
}
