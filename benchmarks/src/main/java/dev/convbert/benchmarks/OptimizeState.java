package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code optimize.json}: what an optimize run has done so far — each candidate's export and gate, each shape's or
 * round's timings, the winner — written atomically after every step, so a rerun of the same command resumes where an
 * interrupted one stopped. A run with other settings (another model, machine, provider, shapes…) is refused, not
 * mixed in: its timings would not compare.
 */
final class OptimizeState {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path file;
    private final ObjectNode json;

    private OptimizeState(Path file, ObjectNode json) {
        this.file = file;
        this.json = json;
    }

    static OptimizeState open(Path output, ObjectNode fingerprint, boolean fresh) throws IOException {
        Path file = output.resolve(OptimizeCommand.STATE);
        if (Files.isRegularFile(file) && !fresh) {
            JsonNode old;
            try {
                old = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new InvalidInputException(file + ": not readable JSON (" + e.getMessage() + "); rerun with --fresh to "
                        + "start over");
            }
            List<String> differ = new ArrayList<>();
            fingerprint.fields().forEachRemaining(e -> {
                JsonNode was = old.path("fingerprint").get(e.getKey());
                if (!e.getValue().equals(was)) {
                    differ.add(e.getKey() + " was " + (was == null ? "absent" : was) + ", now " + e.getValue());
                }
            });
            if (!differ.isEmpty()) {
                throw new InvalidInputException(file + ": an optimize run with other settings (" + String.join("; ", differ)
                        + "); its gates and timings would not compare: rerun with --fresh to discard it, or choose another --output");
            }
            ObjectNode state = (ObjectNode) old;
            state.put("sessions", state.path("sessions").asInt(1) + 1);
            state.remove("winner");
            return new OptimizeState(file, state);
        }
        AtomicFiles.deleteTree(output.resolve("candidates"));
        ObjectNode state = JSON.createObjectNode();
        state.set("fingerprint", fingerprint);
        state.put("sessions", 1);
        state.putObject("candidates");
        state.putArray("measured");
        state.putObject("timings");
        return new OptimizeState(file, state);
    }

    ObjectNode json() {
        return json;
    }

    boolean gated(String candidate) {
        return json.path("candidates").path(candidate).has("gate");
    }

    boolean passed(String candidate) {
        return json.path("candidates").path(candidate).path("gate").path("passed").asBoolean(false);
    }

    String gateReport(String candidate) {
        return json.path("candidates").path(candidate).path("gate").path("report").asText("not gated");
    }

    String sha256(String candidate) {
        return json.path("candidates").path(candidate).path("sha256").asText("");
    }

    void gate(OptimizeCandidate c, Path onnx, String sha256, ObjectNode gate) {
        ObjectNode o = ((ObjectNode) json.get("candidates")).putObject(c.name());
        o.put("description", c.description());
        o.put("file", "candidates/" + onnx.getFileName());
        o.put("sha256", sha256);
        o.put("bytes", onnx.toFile().length());
        o.set("gate", gate);
    }

    boolean measured(String unit) {
        for (JsonNode u : json.path("measured")) {
            if (u.asText().equals(unit)) {
                return true;
            }
        }
        return false;
    }

    /** A shape's timings: setting → p50/p90/mean ms, sequences/s, or why it failed. */
    void record(String unit, Map<String, ObjectNode> bySetting) {
        ObjectNode timings = (ObjectNode) json.get("timings");
        bySetting.forEach((setting, t) -> (timings.has(setting) ? (ObjectNode) timings.get(setting) : timings.putObject(setting))
                .set(unit, t));
        json.withArray("measured").add(unit);
    }

    /** A real-data round's rates: setting (and the baseline) → examples/s. */
    void recordRates(String unit, Map<String, Double> rates) {
        ObjectNode timings = (ObjectNode) json.get("timings");
        rates.forEach((setting, r) -> (timings.has(setting) ? (ObjectNode) timings.get(setting) : timings.putObject(setting))
                .put(unit, r));
        json.withArray("measured").add(unit);
    }

    /** A dev split the settings are timed on; its rounds are the units named "TASK round N". */
    void realData(String task, String split, int rows, int maxLength) {
        ObjectNode rd = json.has("real_data") ? (ObjectNode) json.get("real_data") : json.putObject("real_data");
        rd.put("batching", "length-sorted passes of " + OptimizeCommand.REAL_DATA_ROWS + " rows, as score runs");
        rd.put("max_length", maxLength);
        (rd.has("tasks") ? (ObjectNode) rd.get("tasks") : rd.putObject("tasks")).putObject(task).put("split", split).put("rows", rows);
    }

    void winner(OptimizeCandidate.Setting best, Path onnx, OptimizeRanking ranking) {
        ObjectNode w = json.putObject("winner");
        w.put("setting", best.name());
        w.put("export", best.candidate().name());
        w.put("workers", best.workers());
        w.put("intra_op_threads", best.threads());
        w.put("file", onnx.getFileName().toString());
        w.put("why", ranking.why(best));
        w.put("objective", ranking.objective());
        json.set("ranking", ranking.toJson());
    }

    void save() throws IOException {
        AtomicFiles.writeString(file, JSON.writeValueAsString(json) + "\n");
    }
}
