package dev.convbert.runtime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueSubmission;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.metrics.GlueScore;
import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.GlueScorer;
import dev.convbert.core.cli.BatchOptions;
import dev.convbert.core.cli.GlueOptions;
import dev.convbert.core.cli.ModelOptions;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.score.RunSettings;
import dev.convbert.runtime.score.ScoringException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code convbert score}: GLUE dev metrics with the accuracy gate, or test-set submission files, on ONNX Runtime. */
@Command(name = "score",
        description = "Score an exported model on a GLUE split with ONNX Runtime. dev: the task's GLUE metrics, compared "
                + "with the training-time metric in the model's metadata; exits 1 when |Δ| exceeds --tolerance. test: "
                + "writes the GLUE submission file(s).",
        footer = {"  convbert score --model export/sst2.onnx --task sst-2 --data-dir $GLUE_DIR --split dev",
                "  convbert score --model export/mnli.onnx --task mnli --data-dir $GLUE_DIR --split test --submission-dir sub/"})
public final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    GlueOptions glue = new GlueOptions();

    @Option(names = "--split", defaultValue = "dev", description = "dev or test (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--workers", paramLabel = "N", description = "Forward passes at once, each on cores/N of ONNX Runtime's threads (default: what 'convbert "
            + "optimize' recorded in the export's card; else 2 on the CPU when it has two or more cores, 1 on a GPU). "
            + "Passes of short rows run faster side by side than one at a time on every core; the answers do not change.")
    Integer workers;

    @CommandLine.Mixin
    GateOptions gateOptions = new GateOptions();

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @CommandLine.Mixin
    BatchOptions batchOptions = new BatchOptions();

    @CommandLine.Mixin
    ProviderOptions providerOptions = new ProviderOptions();

    @CommandLine.Mixin
    ExternalDataOption externalData = new ExternalDataOption();

    @Option(names = "--submission-dir", description = "Where test-split submission files go (default: beside --output or ./submission).")
    Path submissionDir;

    @Option(names = "--output", description = "Results JSON, written atomically (default: none, the report is printed).")
    Path output;

    @Override
    public Integer call() throws Exception {
        GlueTask t = glue.task();
        if (!split.equals("dev") && !split.equals("test")) {
            throw new dev.convbert.core.InvalidInputException("--split must be dev or test, found \"" + split + "\"");
        }
        ExecutionProvider ep = providerOptions.provider();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = mapper.createObjectNode();
        boolean failed = false;
        boolean otherData = false;
        java.io.PrintWriter console = spec.commandLine().getOut();
        Path model = modelOptions.model();
        RunSettings run = RunSettings.resolve(model, ep, workers, OrtModel.threads());
        int passes = run.workers();
        int threads = run.threadsPerPass();
        try (OrtModel m = OrtModel.open(model, ep, null, externalData.allowed, threads)) {
            ScoringModel scoring = ScoringModel.classifier(m, modelOptions.spec(), "scoring");
            console.println("provider: " + m.provider() + " (" + run.describe() + ")");
            m.placement().ifPresent(placement -> console.println("placement: " + placement.summary()));
            Path v = scoring.vocab();
            int maxLength = scoring.maxLength();
            int batchSize = batchOptions.batchSize();
            if (m.config().numLabels() != t.trainingTask().numLabels()) {
                throw new ScoringException(model + ": has " + m.config().numLabels() + " labels but " + t.glueName()
                        + " needs " + t.trainingTask().numLabels());
            }
            result.put("model", model.toString());
            result.put("task", t.id());
            result.put("split", split);
            result.put("provider", m.provider());
            result.put("workers", passes);
            result.put("intra_op_threads", threads);
            result.put("run_settings", run.source());
            result.put("max_length", maxLength);
            m.placement().ifPresent(placement -> result.put("placement", placement.summary()));
            result.put("precision", m.metadata().getOrDefault("convbert.precision", "float32"));
            if (split.equals("dev")) {
                double tol = gateOptions.tolerance(m);
                for (GlueTask.Split s : t.devSplits()) {
                    if (!Files.isRegularFile(GlueReader.file(glue.dataDir(), t, s.name()))) {
                        throw new ScoringException(GlueReader.file(glue.dataDir(), t, s.name()) + ": missing");
                    }
                    GlueScorer.Scored scored = GlueScorer.predict(m, v, glue.dataDir(), t, s.name(), batchSize, maxLength, true, passes);
                    GlueScore score = scored.score();
                    AccuracyGate gate = AccuracyGate.of(m, score, tol, GlueReader.file(glue.dataDir(), t, s.name()));
                    console.println(score);
                    console.printf(Locale.ROOT, "%d examples in %.2f s (%.1f examples/s)%n", scored.rows().size(),
                            scored.seconds(), scored.rows().size() / scored.seconds());
                    console.println("accuracy gate: " + gate.report());
                    ObjectNode o = result.putObject(s.name());
                    o.set("metrics", mapper.valueToTree(new TreeMap<>(score.metrics())));
                    o.put("main_metric", score.mainMetric());
                    o.put("main", score.main());
                    o.put("examples", scored.rows().size());
                    o.put("seconds", scored.seconds());
                    ObjectNode g = o.putObject("gate");
                    g.put("applied", gate.applied());
                    if (gate.applied()) {
                        g.put("training_value", gate.trainingValue());
                        g.put("delta", gate.delta());
                    }
                    if (gate.otherData() != null) {
                        g.put("different_dev_file", gate.otherData());
                    }
                    g.put("tolerance", tol);
                    g.put("passed", gate.passed());
                    failed |= !gate.passed();
                    otherData |= !gate.passed() && gate.otherData() != null;
                }
                result.put("passed", !failed);
            } else {
                Path subDir = submissionDir != null ? submissionDir
                        : output != null ? output.toAbsolutePath().getParent().resolve("submission") : Path.of("submission");
                List<GlueTask> tasks = new ArrayList<>(List.of(t));
                if (t == GlueTask.MNLI && Files.isRegularFile(GlueReader.file(glue.dataDir(), GlueTask.AX, "test"))) {
                    tasks.add(GlueTask.AX);
                }
                var files = result.putArray("submission_files");
                for (GlueTask each : tasks) {
                    for (GlueTask.Split s : each.testSplits()) {
                        long started = System.nanoTime();
                        GlueScorer.Scored scored = GlueScorer.predict(m, v, glue.dataDir(), each, s.name(), batchSize, maxLength, true, passes);
                        Path f = GlueSubmission.write(subDir, each, s.name(), scored.rows(), scored.predictions());
                        console.printf(java.util.Locale.ROOT, "%s: %d predictions in %.1f s%n", f, scored.rows().size(),
                                (System.nanoTime() - started) / 1e9);
                        files.add(f.toString());
                    }
                }
            }
        }
        if (output != null) {
            AtomicFiles.writeString(output, mapper.writeValueAsString(result) + "\n");
        }
        if (failed) {
            throw new CommandFailedException("accuracy gate failed for " + modelOptions.model() + (otherData
                    ? " on a different dev file than the one it was trained with (see the report above)" : " (see the report above)"));
        }
        return ExitCodes.OK;
    }
}
