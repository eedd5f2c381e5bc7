package dev.convbert.core.cli;

import dev.convbert.core.io.Progress;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueSubmission;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.PredictorProvider;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
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
@Command(name = "predict-glue", mixinStandardHelpOptions = true,
        description = {"Predict a task's GLUE test split(s) and write the submission files (RTE.tsv, SST-2.tsv, …).",
                "", "Example:", "  convbert predict-glue --task rte --data-dir $GLUE_DIR --model runs/rte --output submission/"})
public final class PredictGlueCommand implements Callable<Integer> {
    @Option(names = "--task", required = true, description = "cola, sst-2, mrpc, sts-b, qqp, mnli, qnli, rte, wnli (ax: the MNLI model on the diagnostic set).")
    String task;

    @Option(names = "--data-dir", required = true, description = "GLUE in its original layout.")
    Path dataDir;

    @Option(names = "--model", required = true, description = "A fine-tuned model directory or exported .onnx.")
    Path model;

    @Option(names = "--output", required = true, description = "Directory for the submission files.")
    Path output;

    @Option(names = "--batch-size", defaultValue = "64", description = "Rows per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-length", defaultValue = "128", description = "Truncation length in tokens (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--vocab", description = "vocab.txt (default: the model's own).")
    Path vocab;

    @Override
    public Integer call() throws IOException {
        GlueTask t = GlueTask.fromId(task);
        List<GlueTask> tasks = new ArrayList<>(List.of(t));
        if (t == GlueTask.MNLI && GlueReader.file(dataDir, GlueTask.AX, "test").toFile().isFile()) {
            tasks.add(GlueTask.AX);
        }
        try (Predictor predictor = PredictorProvider.openAny(model, device)) {
            Predictor.requireClassificationHead(predictor, model, "GLUE predictions");
            if (predictor.config().numLabels() != t.trainingTask().numLabels()) {
                throw new dev.convbert.core.InvalidInputException(model + ": has " + predictor.config().numLabels() + " labels but "
                        + t.glueName() + " needs " + t.trainingTask().numLabels() + "; is it the " + t.trainingTask().glueName() + " model?");
            }
            Path v = Predictor.textVocab(predictor, model, vocab);
            BertTokenizer tokenizer = new BertTokenizer(Vocab.read(v));
            for (GlueTask each : tasks) {
                for (GlueTask.Split split : each.testSplits()) {
                    List<GlueExample> rows = GlueReader.read(dataDir, each, split.name());
                    float[][] logits;
                    try (Progress progress = Progress.start(each.glueName() + " " + split.name(), rows.size(), "ex")) {
                        logits = BatchRunner.logits(predictor, BatchRunner.encode(tokenizer, rows, maxLength), batchSize, progress);
                    }
                    Path file = GlueSubmission.write(output, each, split.name(), rows, BatchRunner.predictions(each, logits));
                    System.out.println(file + ": " + rows.size() + " predictions");
                }
            }
        }
        return ExitCodes.OK;
    }
}
