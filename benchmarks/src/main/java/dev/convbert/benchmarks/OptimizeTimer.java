package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Batching;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.runtime.cli.ProviderOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How {@code convbert optimize} times its settings, all of one measurement in one go so they share the machine's
 * state: at a shape, each setting in a worker JVM of its own ({@link BackendProcess}), blocks rotating over them; on
 * real data, one round scores the dev split once per setting in rotating order, length-sorted as {@code score} runs.
 */
final class OptimizeTimer {
    /** Block size, time and run limits, and the idle pause before each block. */
    record Limits(int repeats, double minSeconds, int maxRuns, int settleMs) {}

    private OptimizeTimer() {}

    /**
     * Every setting at {@code batch} × {@code seq}: p50/p90/mean milliseconds of one pass and sequences per second over
     * the wall time of all runs (with several passes at once, their overlap counts once). A setting whose worker fails
     * gets {@code failed} with the reason; the others are measured.
     */
    static Map<String, ObjectNode> shape(List<OptimizeCandidate.Setting> settings, Map<String, Path> exports,
                                         ProviderOptions provider, int batch, int seq, Limits limits, long seed) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        Map<String, BackendProcess> workers = new LinkedHashMap<>();
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        Map<String, Double> wall = new LinkedHashMap<>();
        try {
            for (OptimizeCandidate.Setting s : settings) {
                try {
                    workers.put(s.name(), BackendProcess.start(s.name(), exports.get(s.candidate().name()),
                            s.candidate().provider(provider.provider()), s.threads()));
                    ms.put(s.name(), new ArrayList<>());
                    wall.put(s.name(), 0.0);
                } catch (IOException e) {
                    out.put(s.name(), failed(e));
                }
            }
            double spent = 0;
            for (int rounds = 1; !workers.isEmpty(); rounds++) {
                for (OptimizeCandidate.Setting s : settings) {
                    BackendProcess w = workers.get(s.name());
                    if (w == null) {
                        continue;
                    }
                    Settle.pause(limits.settleMs());
                    try {
                        double[] r = s.workers() == 1 ? w.block(batch, seq, limits.repeats(), seed)
                                : w.concurrentBlock(batch, seq, limits.repeats(), seed, s.workers());
                        double[] runs = s.workers() == 1 ? r : Arrays.copyOfRange(r, 1, r.length);
                        double took = s.workers() == 1 ? Arrays.stream(r).sum() : r[0];
                        Arrays.stream(runs).forEach(ms.get(s.name())::add);
                        wall.merge(s.name(), took, Double::sum);
                        spent += took / 1000;
                    } catch (IOException e) {
                        out.put(s.name(), failed(e));
                        workers.remove(s.name()).close();
                        ms.remove(s.name());
                    }
                }
                if (rounds * limits.repeats() >= limits.maxRuns() || spent >= limits.minSeconds() * settings.size()) {
                    break;
                }
            }
        } finally {
            workers.values().forEach(BackendProcess::close);
        }
        for (OptimizeCandidate.Setting s : settings) {
            if (!ms.containsKey(s.name())) {
                continue;
            }
            double[] sorted = ms.get(s.name()).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            LatencyCell cell = new LatencyCell(s.name(), batch, seq, sorted, sorted, new double[0]);
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("runs", sorted.length);
            LatencyReport.putOrNull(o, "p50_ms", cell.percentile(0.5));
            LatencyReport.putOrNull(o, "p90_ms", cell.percentile(0.9));
            LatencyReport.putOrNull(o, "mean_ms", cell.mean());
            o.put("sequences_per_s", (double) batch * sorted.length * 1000.0 / wall.get(s.name()));
            out.put(s.name(), o);
        }
        return out;
    }

    /** One round over real data: examples per second of each setting, in {@code order}. */
    static Map<String, Double> realDataRound(List<OptimizeCandidate.Setting> order, Map<String, Predictor> sessions,
                                             List<Encoding> rows, Predictor baseline, int settleMs) {
        Map<String, Double> rates = new LinkedHashMap<>();
        for (OptimizeCandidate.Setting s : order) {
            Settle.pause(settleMs);
            long start = System.nanoTime();
            BatchRunner.logits(sessions.get(s.name()), rows, Batching.rows(OptimizeCommand.REAL_DATA_ROWS), null, s.workers());
            rates.put(s.name(), rows.size() / ((System.nanoTime() - start) / 1e9));
        }
        // what HF pipelines do: file order, 32 rows a pass padded to the pass's longest, float32, one pass at a time
        Settle.pause(settleMs);
        long start = System.nanoTime();
        RealDataBenchmark.score(baseline, rows, "dataset-order", 0);
        rates.put(OptimizeCommand.BASELINE, rows.size() / ((System.nanoTime() - start) / 1e9));
        return rates;
    }

    private static ObjectNode failed(IOException e) {
        return JsonNodeFactory.instance.objectNode().put("failed", String.valueOf(e.getMessage()));
    }
}
