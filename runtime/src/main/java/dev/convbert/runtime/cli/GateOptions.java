package dev.convbert.runtime.cli;

import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.score.OrtModel;
import picocli.CommandLine.Option;

/**
 * {@code --tolerance} of the commands that gate an export's dev metric against the one it was trained to (score,
 * spark-score, benchmark, optimize): one option, one default per precision ({@link AccuracyGate#defaultTolerance}).
 */
public final class GateOptions {
    @Option(names = "--tolerance", description = "Allowed |Δ| between the dev metric measured here and the training-time "
            + "one the export records (default per precision: 0.001 float32, 0.005 float16, 0.01 int8).")
    Double tolerance;

    /** --tolerance, else the default for {@code model}'s precision. */
    public double tolerance(OrtModel model) {
        return tolerance != null ? tolerance : AccuracyGate.defaultTolerance(model);
    }

    /** For a run's record: the --tolerance given, or "default" (per precision). */
    public String describe() {
        return tolerance == null ? "default" : tolerance.toString();
    }
}
