package dev.convbert.runtime.score;

import dev.convbert.core.io.Progress;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.metrics.GlueScore;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Batching;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Scores a model on a GLUE split with the same reader, tokenizer and metrics as training; batches sorted by length. */
public final class GlueScorer {
    private GlueScorer() {}

    /** The predictions of one split, with timing. */
    public record Scored(GlueTask task, String split, List<GlueExample> rows, double[] predictions, double seconds) {
        public GlueScore score() {
            return GlueScore.of(task, split, predictions, BatchRunner.gold(task, rows));
        }
    }

    public static Scored predict(Predictor model, Path vocab, Path dataDir, GlueTask task, String split, int batchSize,
                                 int maxLength, boolean progress) throws IOException {
        return predict(model, vocab, dataDir, task, split, batchSize, maxLength, progress, 1);
    }

    /** As above, with up to {@code workers} passes at once (see {@link BatchRunner}). */
    public static Scored predict(Predictor model, Path vocab, Path dataDir, GlueTask task, String split, int batchSize,
                                 int maxLength, boolean progress, int workers) throws IOException {
        List<GlueExample> rows = GlueReader.read(dataDir, task, split);
        BertTokenizer tokenizer = new BertTokenizer(Vocab.read(vocab));
        var encodings = BatchRunner.encode(tokenizer, rows, Math.min(maxLength, model.config().maxPositionEmbeddings()));
        long start = System.nanoTime();
        float[][] logits;
        try (Progress p = progress ? Progress.start(task.glueName() + " " + split, rows.size(), "ex") : null) {
            logits = BatchRunner.logits(model, encodings, Batching.rows(batchSize), p, workers);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        return new Scored(task, split, rows, BatchRunner.predictions(task, logits), secs);
    }
}
