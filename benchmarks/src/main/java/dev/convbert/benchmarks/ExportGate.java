package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.ModelSpec;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.cli.GateOptions;
import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.score.GlueScorer;
import dev.convbert.runtime.score.OrtModel;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The dev accuracy gate a benchmark or {@code optimize} runs on an export before it times it: the task's first dev
 * split scored as {@code score} scores it (length-sorted batches of 32, the trained max length), compared with the
 * training-time metric the export carries.
 */
final class ExportGate {
    private ExportGate() {
    }

    /** Runs the gate on an opened export and records it under {@code into}; the tolerance as {@code gateOptions} says for its precision. */
    static AccuracyGate run(OrtModel m, Path onnx, Path vocab, Path dataDir, GlueTask t, GateOptions gateOptions, ObjectNode into)
            throws IOException {
        into.put("provider", m.provider());
        m.placement().ifPresent(v -> into.put("placement", v.summary()));
        String split = t.devSplits().get(0).name();
        int maxLength = ScoringModel.any(m, new ModelSpec(onnx, vocab, null)).maxLength();
        GlueScorer.Scored scored = GlueScorer.predict(m, vocab, dataDir, t, split, 32, maxLength, true);
        AccuracyGate gate = AccuracyGate.of(m, scored.score(), gateOptions.tolerance(m),
                GlueReader.file(dataDir, t, split));
        System.out.println("accuracy gate (" + onnx.getFileName() + "): " + gate.report());
        into.put("model", onnx.getFileName().toString());
        into.put("report", gate.report());
        into.put("applied", gate.applied());
        into.put("passed", gate.passed());
        into.put("measured", gate.measured());
        into.put("tolerance", gate.tolerance());
        return gate;
    }
}
