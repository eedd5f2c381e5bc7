package dev.convbert.runtime.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.metrics.GlueScore;

import java.io.IOException;
import java.nio.file.Path;

import java.util.Locale;
import java.util.Map;

/**
 * The check that an exported model still reaches its training-time accuracy: the dev metric computed now (by the same
 * core code as training) against {@code convbert.dev_metric} in the model's metadata, within a tolerance.
 *
 * @param trainingValue {@code NaN} when the model carries no training-time metric (then {@link #applied()} is false)
 * @param otherData     why the scored file is not the one the training-time metric was measured on (its sha256 differs
 *                      from the one the export's training metrics record), or {@code null}: same file, or not recorded
 */
public record AccuracyGate(String task, String metric, double measured, double trainingValue, double tolerance,
                           String otherData) {

    /**
     * Default tolerances: 0.001 for float32 models, 0.005 for float16, 0.01 for int8 (dynamic quantisation moves
     * BERT-size models' GLUE metrics by up to about a point).
     */
    public static double defaultTolerance(OrtModel model) {
        return switch (model.metadata().getOrDefault("convbert.precision", "float32")) {
            case "float16" -> 0.005;
            case "int8" -> 0.01;
            default -> 0.001;
        };
    }

    /** The gate for {@code score}, computed on {@code scoredFile}, against what {@code model}'s export recorded. */
    public static AccuracyGate of(OrtModel model, GlueScore score, double tolerance, Path scoredFile) throws IOException {
        Map<String, String> m = model.metadata();
        String task = m.get("convbert.task");
        String value = m.get("convbert.dev_metric");
        double training = Double.NaN;
        String otherData = null;
        if (value != null && score.task().id().equals(task) && score.split().equals(m.getOrDefault("convbert.dev_split", "dev"))) {
            training = Double.parseDouble(value);
            String recorded = recordedSha256(m, score.task().dirName() + "/" + scoredFile.getFileName());
            if (recorded != null) {
                String now = Hashing.sha256(scoredFile);
                if (!recorded.equals(now)) {
                    otherData = scoredFile + " has sha256 " + now.substring(0, 12) + "…, but the training-time metric was measured"
                            + " on a file with sha256 " + recorded.substring(0, 12) + "…";
                }
            }
        }
        return new AccuracyGate(score.task().id(), score.mainMetric(), score.main(), training, tolerance, otherData);
    }

    /** The sha256 the export's training metrics record for {@code key} ({@code SST-2/dev.tsv}); null when absent. */
    private static String recordedSha256(Map<String, String> metadata, String key) {
        String tm = metadata.get("convbert.training_metrics");
        if (tm == null) {
            return null;
        }
        try {
            JsonNode n = new ObjectMapper().readTree(tm).path("data_sha256").path(key);
            return n.isTextual() ? n.asText() : null;
        } catch (IOException e) {
            return null;   // metadata written by another tool: no record to compare with
        }
    }

    public boolean applied() {
        return !Double.isNaN(trainingValue);
    }

    public double delta() {
        return measured - trainingValue;
    }

    public boolean passed() {
        return !applied() || Math.abs(delta()) <= tolerance;
    }

    public String report() {
        if (!applied()) {
            return String.format(Locale.ROOT, "%s %s = %.4f; the model carries no training-time %s for this split, so the "
                    + "accuracy gate was not applied", task, metric, measured, metric);
        }
        String verdict = passed() ? "PASS" : otherData == null
                ? "FAIL (the exported model does not reproduce its training-time accuracy)"
                : "FAIL (scored on a different dev file than at training time, so the gap may come from the data, not the export)";
        String report = String.format(Locale.ROOT, "%s %s = %.4f, at training time %.4f: |Δ| = %.4f %s tolerance %.4f -> %s",
                task, metric, measured, trainingValue, Math.abs(delta()), passed() ? "<=" : ">", tolerance, verdict);
        return otherData == null ? report : report + "; a different dev file than at training time: " + otherData;
    }
}
