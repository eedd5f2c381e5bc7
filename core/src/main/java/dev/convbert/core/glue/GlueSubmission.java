package dev.convbert.core.glue;

import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes test-set predictions as the files the GLUE server takes (CoLA.tsv, …, MNLI-m.tsv, MNLI-mm.tsv, AX.tsv):
 * a header {@code index\tprediction}, then one row per test example with the label string (STS-B: the score clipped
 * to [0, 5]).
 */
public final class GlueSubmission {
    private GlueSubmission() {}

    /** Writes {@code task}'s file for {@code split}; {@code predictions[i]} is a class index or an STS-B score. */
    public static Path write(Path outDir, GlueTask task, String split, List<GlueExample> examples, double[] predictions)
            throws IOException {
        GlueTask.Split s = task.split(split);
        if (s.submission() == null) {
            throw new IllegalArgumentException(task.glueName() + " " + split + " is not a test split; submissions are "
                    + task.testSplits().stream().map(GlueTask.Split::name).toList());
        }
        if (examples.size() != predictions.length) {
            throw new IllegalArgumentException(examples.size() + " examples but " + predictions.length + " predictions");
        }
        StringBuilder sb = new StringBuilder("index\tprediction\n");
        for (int i = 0; i < predictions.length; i++) {
            sb.append(examples.get(i).index()).append('\t').append(label(task, predictions[i])).append('\n');
        }
        Path file = outDir.resolve(s.submission());
        AtomicFiles.writeString(file, sb.toString());
        return file;
    }

    static String label(GlueTask task, double prediction) {
        if (task.isRegression()) {
            return String.format(Locale.ROOT, "%.3f", Math.min(5.0, Math.max(0.0, prediction)));
        }
        int k = (int) prediction;
        if (k != prediction || k < 0 || k >= task.numLabels()) {
            throw new IllegalArgumentException("prediction " + prediction + " is not a class of " + task.glueName());
        }
        return task.labels().get(k);
    }
}
