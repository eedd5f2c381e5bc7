package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.cli.ModelOptions;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.cli.ProviderOptions;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.serve.PredictionServer;
import dev.convbert.runtime.serve.ServerOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code convbert serve-load}: a closed-loop load test of {@code serve} on loopback, bounded in requests and time.
 * Phase 1: N requests at concurrency C (expects zero errors, no lost responses); phase 2: a deliberately overfull
 * queue (expects 503s), then recovery.
 */
@Command(name = "serve-load",
        description = "Load-test the HTTP server on 127.0.0.1 (bounded): steady load, then an overfull queue and recovery.",
        footer = {"  convbert serve-load --model export/sst2.onnx --requests 10000 --concurrency 32 \\",
                "      --output docs/benchmarks/serve-load.json"})
public final class ServeLoadTest implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--requests", defaultValue = "10000", description = "Requests of the steady phase (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--concurrency", defaultValue = "32", description = "Clients of the steady phase (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--max-seconds", defaultValue = "600", description = "Stop sending after this many seconds, whatever is left (default ${DEFAULT-VALUE}).")
    int maxSeconds;

    @Option(names = "--overload-requests", defaultValue = "2000", description = "Requests of the overload phase (default ${DEFAULT-VALUE}).")
    int overloadRequests;

    @Option(names = "--overload-concurrency", defaultValue = "128", description = "Clients of the overload phase (default ${DEFAULT-VALUE}).")
    int overloadConcurrency;

    @Option(names = "--overload-queue", defaultValue = "16", description = "Queue capacity (rows) in the overload phase (default ${DEFAULT-VALUE}).")
    int overloadQueue;

    @CommandLine.Mixin
    ProviderOptions providerOptions = new ProviderOptions();

    @Option(names = "--workers", defaultValue = "1", paramLabel = "N",
            description = "Micro-batches at once, as serve --workers (default ${DEFAULT-VALUE}).")
    int workers;

    @picocli.CommandLine.Mixin
    ResultsOutput output = new ResultsOutput();

    private static final String[] TEXTS = {
            "a gripping, beautifully shot film", "the plot is thin and the jokes fall flat",
            "one of the most tedious movies i have ever sat through", "warm , funny and surprisingly moving",
            "it never quite finds its footing", "an instant classic with a terrific cast and a script to match",
            "bad", "the director 's sense of pace is impeccable , and the score is lovely"};

    record Phase(int sent, Map<Integer, Integer> byStatus, int lost, double[] latenciesMs, double seconds) {}

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = mapper.createObjectNode();
        boolean ok;
        try (OrtModel m = OrtModel.open(modelOptions.model(), providerOptions.provider(), null, false,
                OrtModel.threadsPerPass(OrtModel.threads(), workers))) {
            ScoringModel scoring = ScoringModel.classifier(m, modelOptions.spec(), "serving");
            result.put("provider", m.provider());
            result.put("workers", workers);
            result.set("device", GpuInfo.describe(providerOptions.provider(), mapper));
            BertTokenizer tok = scoring.tokenizer();
            var d = ServerOptions.defaults().withPassesAtOnce(workers)
                    .forModel(modelOptions.model(), m.card(), scoring.maxLength());
            var steady = d.withPort(0).withTimeouts(30_000, 60_000).withHttpThreads(Math.max(d.httpThreads(), concurrency + 8));
            try (PredictionServer server = PredictionServer.start(m, tok, steady)) {
                Phase p = run(server.port(), requests, concurrency);
                ObjectNode o = report(mapper, result, "steady", p, server);
                ok = p.lost() == 0 && p.byStatus().getOrDefault(200, 0) == p.sent();
                o.put("zero_errors_no_loss", ok);
            }
            var tight = d.withPort(0).withBatching(8, 5).withQueueCapacity(overloadQueue).withTimeouts(30_000, 60_000)
                    .withHttpThreads(Math.max(d.httpThreads(), overloadConcurrency + 8));
            try (PredictionServer server = PredictionServer.start(m, tok, tight)) {
                Phase p = run(server.port(), overloadRequests, overloadConcurrency);
                ObjectNode o = report(mapper, result, "overload", p, server);
                Phase after = run(server.port(), 200, 4);
                ObjectNode r = report(mapper, result, "recovery", after, server);
                boolean recovered = after.byStatus().getOrDefault(200, 0) == after.sent();
                r.put("recovered", recovered);
                o.put("saw_503", p.byStatus().getOrDefault(503, 0) > 0);
                o.put("only_200_or_503", p.byStatus().keySet().stream().allMatch(s -> s == 200 || s == 503));
                ok &= p.lost() == 0 && recovered;
            }
        }
        output.write(result);
        if (!ok) {
            throw new CommandFailedException("load test found errors or lost responses"
                    + (output.output != null ? "; see " + output.output : "; see the summary above"));
        }
        return ExitCodes.OK;
    }

    private Phase run(int port, int n, int c) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .executor(Executors.newFixedThreadPool(4)).build();
        ExecutorService pool = Executors.newFixedThreadPool(c);
        AtomicInteger next = new AtomicInteger();
        Map<Integer, Integer> byStatus = new ConcurrentHashMap<>();
        AtomicInteger lost = new AtomicInteger();
        double[] lat = new double[n];
        long deadline = System.nanoTime() + maxSeconds * 1_000_000_000L;
        long start = System.nanoTime();
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < c; w++) {
            workers.add(pool.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < n && System.nanoTime() < deadline) {
                    String body = "{\"inputs\": [{\"text_a\": \"" + TEXTS[i % TEXTS.length] + "\"}]}";
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/predict"))
                                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        lat[i] = (System.nanoTime() - t0) / 1e6;
                        byStatus.merge(r.statusCode(), 1, Integer::sum);
                        if (r.statusCode() == 200) {
                            JsonNode out = new ObjectMapper().readTree(r.body()).get("outputs");
                            if (out == null || out.size() != 1) {
                                lost.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        lost.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : workers) {
            f.get();
        }
        pool.shutdown();
        double secs = (System.nanoTime() - start) / 1e9;
        int sent = Math.min(n, next.get());
        return new Phase(sent, new TreeMap<>(byStatus), lost.get(), Arrays.copyOf(lat, sent), secs);
    }

    private static ObjectNode report(ObjectMapper mapper, ObjectNode result, String name, Phase p, PredictionServer server)
            throws Exception {
        double[] ok = Arrays.stream(p.latenciesMs()).filter(x -> x > 0).sorted().toArray();
        ObjectNode o = result.putObject(name);
        o.put("requests", p.sent());
        o.set("responses_by_status", mapper.valueToTree(p.byStatus()));
        o.put("lost_or_failed", p.lost());
        o.put("seconds", p.seconds());
        o.put("requests_per_s", p.sent() / p.seconds());
        if (ok.length > 0) {
            o.put("p50_ms", ok[(int) (0.5 * (ok.length - 1))]);
            o.put("p90_ms", ok[(int) (0.9 * (ok.length - 1))]);
            o.put("p99_ms", ok[(int) (0.99 * (ok.length - 1))]);
        }
        o.set("server_batch_sizes", mapper.valueToTree(server.metrics().batchSizeHistogram()));
        o.put("server_rejected_total", server.metrics().rejectedTotal());
        System.out.printf(Locale.ROOT, "%-8s %6d requests in %6.1f s (%.0f req/s): %s, lost %d, p50 %.1f ms, p99 %.1f ms, batch sizes %s%n",
                name, p.sent(), p.seconds(), p.sent() / p.seconds(), p.byStatus(), p.lost(),
                o.path("p50_ms").asDouble(), o.path("p99_ms").asDouble(), server.metrics().batchSizeHistogram());
        return o;
    }
}
