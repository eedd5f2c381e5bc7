package dev.convbert.runtime.serve;

import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.TinyModel;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.convbert.runtime.serve.ServerTest.get;
import static dev.convbert.runtime.serve.ServerTest.post;
import static dev.convbert.runtime.serve.ServerTest.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /metrics parsed by a strict check of the Prometheus text exposition format (0.0.4), and its numbers checked. */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class PrometheusMetricsTest {
    private static final Pattern HELP = Pattern.compile("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\"(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*)?\\})? "
                    + "([-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))( -?[0-9]+)?");

    @Test
    void metricsAreValidPrometheusTextWithTheRightCounts() throws Exception {
        try (OrtModel model = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu());
             PredictionServer server = PredictionServer.start(model, new BertTokenizer(Vocab.read(TinyModel.VOCAB)),
                     ServerOptions.defaults().withPort(0).withModelName("sst2"))) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, post(server.port(), request("a fine film number " + i, null)).statusCode());
            }
            assertEquals(400, post(server.port(), "{\"inputs\": []}").statusCode());
            assertEquals(404, get(server.port(), "/nope").statusCode());
            HttpResponse<String> r = get(server.port(), "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"), r.headers().toString());
            Map<String, Double> samples = parseStrictly(r.body());
            // the client writes labels in name order: endpoint, model, status, version
            assertEquals(3.0, samples.get("convbert_requests_total{endpoint=\"/v1/predict\",model=\"sst2\",status=\"200\",version=\"1\"}"));
            assertEquals(1.0, samples.get("convbert_requests_total{endpoint=\"/v1/predict\",model=\"sst2\",status=\"400\",version=\"1\"}"));
            assertEquals(1.0, samples.get("convbert_requests_total{endpoint=\"other\",model=\"sst2\",status=\"404\",version=\"1\"}"));
            assertEquals(3.0, samples.get("convbert_request_duration_seconds_count{endpoint=\"/v1/predict\",model=\"sst2\",version=\"1\"}"));
            assertEquals(0.0, samples.get("convbert_queue_depth"));
            assertTrue(samples.get("convbert_model_warmup_seconds") > 0, samples.toString());
            assertTrue(samples.get("convbert_batch_rows_count") >= 3, samples.toString());
            assertTrue(samples.keySet().stream().anyMatch(k -> k.startsWith("process_cpu_seconds_total")), "process metrics");
            assertTrue(samples.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")), "the JVM's metrics");
            assertTrue(samples.keySet().stream().anyMatch(k -> k.startsWith("jvm_threads_current")), "the JVM's metrics");

            // a scraper that asks for OpenMetrics (Prometheus does, first) gets it, ending in # EOF
            HttpResponse<String> om = ServerTest.client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                    + server.port() + "/metrics")).header("Accept", "application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"), om.headers().toString());
            assertTrue(om.body().strip().endsWith("# EOF"), "OpenMetrics ends with # EOF");
            assertTrue(om.body().contains("convbert_requests_total{"), "the same counters");
        }
    }

    /** Every line is a HELP, a TYPE or a sample of a declared metric; histograms have ordered buckets up to +Inf. */
    static Map<String, Double> parseStrictly(String text) {
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        Map<String, Double> samples = new HashMap<>();
        Map<String, Double> lastBucket = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m;
            if ((m = HELP.matcher(line)).matches()) {
                helped.add(m.group(1));
            } else if ((m = TYPE.matcher(line)).matches()) {
                assertTrue(types.putIfAbsent(m.group(1), m.group(2)) == null, "TYPE twice: " + line);
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                String name = m.group(1);
                String base = List.of("_bucket", "_count", "_sum", "_total", "_created").stream().filter(name::endsWith)
                        .map(s -> name.substring(0, name.length() - s.length())).filter(types::containsKey).findFirst().orElse(name);
                assertTrue(types.containsKey(base) || types.containsKey(name), "sample of an undeclared metric: " + line);
                double v = m.group(4).endsWith("Inf") ? (m.group(4).startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                        : Double.parseDouble(m.group(4));
                samples.put(name + (m.group(2) == null ? "" : m.group(2)), v);
                if (name.endsWith("_bucket")) {
                    String series = name + (m.group(3) == null ? "" : m.group(3).replaceAll(",?le=\"[^\"]*\"", ""));
                    Double before = lastBucket.put(series, v);
                    assertTrue(before == null || before <= v, "buckets must not decrease: " + line);
                }
            } else {
                assertTrue(line.isEmpty(), "not Prometheus text format: \"" + line + "\"");
            }
        }
        types.forEach((name, type) -> {
            assertTrue(helped.contains(name), "no HELP for " + name);
            if (type.equals("histogram")) {
                assertTrue(samples.keySet().stream().anyMatch(k -> k.startsWith(name + "_bucket") && k.contains("le=\"+Inf\"")),
                        name + " has no +Inf bucket");
            }
        });
        return samples;
    }
}
