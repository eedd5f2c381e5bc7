package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The measured settings in order: each scored as its speed-up over the reference (the float32 export, one pass at a
 * time) — sequences/s (throughput) or 1/p50 (latency), geometric mean over the shapes, or the median of the real-data
 * rounds. A setting that failed at any shape is ranked last and never wins; gate failures were never timed.
 */
final class OptimizeRanking {
    /** @param speedUp over the reference; NaN when the setting failed somewhere */
    record Entry(OptimizeCandidate.Setting setting, double speedUp, double value, String unit, String failure) {}

    private final List<Entry> entries;
    private final String reference;
    private final String objective;

    private OptimizeRanking(List<Entry> entries, String reference, String objective) {
        this.entries = entries;
        this.reference = reference;
        this.objective = objective;
    }

    static OptimizeRanking of(List<OptimizeCandidate.Setting> settings, OptimizeState state, String objective, boolean realData) {
        JsonNode timings = state.json().path("timings");
        OptimizeCandidate.Setting ref = settings.stream()
                .filter(s -> s.candidate().name().equals(OptimizeCandidate.FLOAT32) && s.workers() == 1)
                .findFirst().orElse(settings.get(0));
        List<String> units = new ArrayList<>();
        state.json().path("measured").forEach(u -> units.add(u.asText()));
        List<Entry> entries = new ArrayList<>();
        for (OptimizeCandidate.Setting s : settings) {
            JsonNode mine = timings.path(s.name());
            JsonNode theirs = timings.path(ref.name());
            if (realData) {
                // per dev split the median of its rounds, then the geometric mean over the splits
                double logSpeedUp = 0;
                double logRate = 0;
                List<String> tasks = tasks(units);
                for (String task : tasks) {
                    double rate = medianOver(mine, units, task);
                    logSpeedUp += Math.log(rate / medianOver(theirs, units, task));
                    logRate += Math.log(rate);
                }
                double speedUp = Math.exp(logSpeedUp / tasks.size());
                entries.add(new Entry(s, speedUp, Math.exp(logRate / tasks.size()), tasks.size() == 1 ? "examples/s"
                        : "examples/s (geometric mean over " + String.join(", ", tasks) + ")",
                        Double.isNaN(speedUp) ? "not measured" : null));
                continue;
            }
            double logSum = 0;
            double valueLogSum = 0;
            String failure = null;
            for (String u : units) {
                JsonNode a = mine.path(u);
                JsonNode b = theirs.path(u);
                if (a.has("failed") || a.isMissingNode() || b.has("failed") || b.isMissingNode() || a.path("p50_ms").isNull()) {
                    failure = "failed at " + u + ": " + a.path("failed").asText(b.has("failed") ? "the reference failed" : "not measured");
                    break;
                }
                double v = objective.equals("latency") ? a.get("p50_ms").asDouble() : a.get("sequences_per_s").asDouble();
                double r = objective.equals("latency") ? b.get("p50_ms").asDouble() : b.get("sequences_per_s").asDouble();
                logSum += Math.log(objective.equals("latency") ? r / v : v / r);
                valueLogSum += Math.log(v);
            }
            double n = units.size();
            entries.add(new Entry(s, failure != null ? Double.NaN : Math.exp(logSum / n),
                    failure != null ? Double.NaN : Math.exp(valueLogSum / n),
                    objective.equals("latency") ? "ms p50 (geometric mean over shapes)" : "sequences/s (geometric mean over shapes)",
                    failure));
        }
        entries.sort(Comparator.comparingDouble((Entry e) -> Double.isNaN(e.speedUp()) ? Double.NEGATIVE_INFINITY : e.speedUp())
                .reversed());
        return new OptimizeRanking(entries, ref.name(), objective);
    }

    List<Entry> entries() {
        return entries;
    }

    /** throughput or latency: what the speed-ups compare. */
    String objective() {
        return objective;
    }

    String reference() {
        return reference;
    }

    OptimizeCandidate.Setting winner() {
        Entry best = entries.get(0);
        if (Double.isNaN(best.speedUp())) {
            throw new dev.convbert.core.CommandFailedException("no setting was measured at every shape: " + best.failure());
        }
        return best.setting();
    }

    /** Why {@code s} won or lost, in words for the report. */
    String why(OptimizeCandidate.Setting s) {
        Entry e = entries.stream().filter(x -> x.setting().equals(s)).findFirst().orElseThrow();
        if (e.failure() != null) {
            return e.failure();
        }
        Entry best = entries.get(0);
        String vs = String.format(Locale.ROOT, "%.2f× %s's %s", e.speedUp(), reference, objective);
        if (e == best) {
            return "the fastest that passed its gate: " + vs;
        }
        return String.format(Locale.ROOT, "%s; %.0f %% behind %s", vs, 100 * (1 - e.speedUp() / best.speedUp()),
                best.setting().name());
    }

    ArrayNode toJson() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Entry e : entries) {
            var o = a.addObject().put("setting", e.setting().name()).put("export", e.setting().candidate().name())
                    .put("workers", e.setting().workers()).put("intra_op_threads", e.setting().threads());
            if (Double.isNaN(e.speedUp())) {
                o.putNull("speed_up");
            } else {
                o.put("speed_up", e.speedUp()).put("value", e.value()).put("unit", e.unit());
            }
            o.put("why", why(e.setting()));
        }
        return a;
    }

    /** The dev splits of real-data units ("SST-2 round 1" → SST-2), in order. */
    static List<String> tasks(List<String> units) {
        return units.stream().map(u -> u.substring(0, u.lastIndexOf(" round "))).distinct().toList();
    }

    /** The median over {@code task}'s rounds of what {@code timings} holds for them. */
    static double medianOver(JsonNode timings, List<String> units, String task) {
        return LatencyCell.median(units.stream().filter(u -> u.startsWith(task + " round "))
                .mapToDouble(u -> timings.path(u).asDouble(Double.NaN)).toArray());
    }
}
