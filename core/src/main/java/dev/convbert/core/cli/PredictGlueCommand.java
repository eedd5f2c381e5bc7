package dev.convbert.core.cli;

import dev.convbert.core.io.Progress;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueSubmission;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.ScoringModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code convbert predict-glue}: test-split predictions as GLUE submission files. MNLI writes MNLI-m.tsv, MNLI-mm.tsv
 * and, when the diagnostic set is present, AX.tsv (predicted with the same MNLI model).
 */
@Command(name = "predict-glue",
        description = "Predict a task's GLUE test split(s) and write the submission files (RTE.tsv, SST-2.tsv, …).",
        footer = "  convbert predict-glue --task rte --data-dir $GLUE_DIR --model runs/rte --output submission/")
public final class PredictGlueCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    GlueOptions glue = new GlueOptions();

    @Option(names = "--output", required = true, description = "Directory for the submission files.")
    Path output;

    @picocli.CommandLine.Mixin
    PredictorOptions options = new PredictorOptions();

    @Override
    public Integer call() throws IOException {
        Path model = options.model();
        GlueTask t = glue.task();
        List<GlueTask> tasks = new ArrayList<>(List.of(t));
        if (t == GlueTask.MNLI && GlueReader.file(glue.dataDir(), GlueTask.AX, "test").toFile().isFile()) {
            tasks.add(GlueTask.AX);
        }
        try (Predictor predictor = options.open()) {
            ScoringModel scoring = ScoringModel.classifier(predictor, options.spec(), "GLUE predictions");
            if (predictor.config().numLabels() != t.trainingTask().numLabels()) {
                throw new dev.convbert.core.InvalidInputException(model + ": has " + predictor.config().numLabels() + " labels but "
                        + t.glueName() + " needs " + t.trainingTask().numLabels() + "; is it the " + t.trainingTask().glueName() + " model?");
            }
            for (GlueTask each : tasks) {
                for (GlueTask.Split split : each.testSplits()) {
                    List<GlueExample> rows = GlueReader.read(glue.dataDir(), each, split.name());
                    float[][] logits;
                    try (Progress progress = Progress.start(each.glueName() + " " + split.name(), rows.size(), "ex")) {
                        logits = BatchRunner.logits(predictor, BatchRunner.encode(scoring.tokenizer(), rows, scoring.maxLength()),
                                options.batchSize(), progress);
                    }
                    Path file = GlueSubmission.write(output, each, split.name(), rows, BatchRunner.predictions(each, logits));
                    System.out.println(file + ": " + rows.size() + " predictions");
                }
            }
        }
        return ExitCodes.OK;
    }
}
