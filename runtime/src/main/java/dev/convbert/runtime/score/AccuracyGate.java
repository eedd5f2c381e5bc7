package dev.convbert.runtime.score;

import dev.convbert.core.metrics.GlueScore;

import java.util.Locale;
import java.util.Map;

/**
 * The check that an exported model still reaches its training-time accuracy: the dev metric computed now (by the same
 * core code as training) against {@code convbert.dev_metric} in the model's metadata, within a tolerance.
 *
 * @param trainingValue {@code NaN} when the model carries no training-time metric (then {@link #applied()} is false)
 */
public record AccuracyGate(String task, String metric, double measured, double trainingValue, double tolerance) {

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

    public static AccuracyGate of(OrtModel model, GlueScore score, double tolerance) {
        Map<String, String> m = model.metadata();
        String task = m.get("convbert.task");
        String value = m.get("convbert.dev_metric");
        double training = Double.NaN;
        if (value != null && score.task().id().equals(task) && score.split().equals(m.getOrDefault("convbert.dev_split", "dev"))) {
            training = Double.parseDouble(value);
        }
        return new AccuracyGate(score.task().id(), score.mainMetric(), score.main(), training, tolerance);
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
        return String.format(Locale.ROOT, "%s %s = %.4f, at training time %.4f: |Δ| = %.4f %s tolerance %.4f -> %s",
                task, metric, measured, trainingValue, Math.abs(delta()), passed() ? "<=" : ">", tolerance,
                passed() ? "PASS" : "FAIL (the exported model does not reproduce its training-time accuracy)");
    }
}
