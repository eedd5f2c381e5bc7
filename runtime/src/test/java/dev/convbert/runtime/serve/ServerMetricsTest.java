package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request threads record latencies while /metrics reads them: counts add up and percentiles are recorded values. */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class ServerMetricsTest {
    @Test
    void concurrentRecordingAndReadingStayConsistent() throws Exception {
        ServerMetrics m = new ServerMetrics("test", "1");
        ObjectMapper json = new ObjectMapper();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            writers.add(pool.submit(() -> {
                for (int i = 0; i < 20_000; i++) {
                    m.response(200, 7.0);
                }
            }));
        }
        Future<?> reader = pool.submit(() -> {
            for (int i = 0; i < 200; i++) {
                JsonNode lat = m.toJson(json, 0).get("latency_ms");
                if (lat.has("p50")) {
                    assertEquals(7.0, lat.get("p50").asDouble(), 0.0, "only recorded values: " + lat);
                    assertEquals(7.0, lat.get("max").asDouble(), 0.0, "only recorded values: " + lat);
                }
            }
        });
        for (Future<?> w : writers) {
            w.get();
        }
        reader.get();
        pool.shutdown();
        JsonNode o = m.toJson(json, 0);
        assertEquals(160_000, o.get("latency_ms").get("count").asLong());
        assertEquals(160_000, o.get("responses_by_status").get("200").asLong());
        assertTrue(o.get("latency_ms").get("p99").asDouble() == 7.0);
    }
}
