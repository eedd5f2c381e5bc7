package dev.convbert.spark;

import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Softmax;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.CollectionAccumulator;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Scores one partition on its executor: tokenises its rows, runs them through the executor's shared session in
 * length-sorted passes ({@link BatchRunner}, as {@code score} does) and returns one output row per input row, in
 * input order. Reports (executor, rows, start, end) per partition to the driver.
 */
record ScorePartition(ShippedModel shipped, int threads, int workers, int maxLength, int batchSize,
        List<String> labels, CollectionAccumulator<String> stats) implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    ScorePartition {
        labels = List.copyOf(labels);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        var part = ExecutorModel.Partition.read(input, r -> new String[]{r.getString(SparkInputs.TEXT_A),
                r.getString(SparkInputs.TEXT_B)});
        List<Row> rows = part.rows();
        if (rows.isEmpty()) {
            return rows.iterator();
        }
        long started = System.nanoTime();
        float[][] logits = ExecutorModel.get(shipped, threads, workers).logits(part.texts(), maxLength, batchSize);
        boolean regression = labels.size() == 1;
        List<Row> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            float[] l = logits[i];
            int best = Softmax.argmax(l);
            double prediction = regression ? l[0] : best;
            out.add(RowFactory.create(r.getLong(SparkInputs.ROW), r.getString(SparkInputs.ID), r.get(SparkInputs.LABEL),
                    l, prediction, regression ? null : labels.get(best)));
        }
        // nanoTime is comparable within one JVM: the driver spans each executor's first start to its last end
        stats.add(SparkEnv.get().executorId() + "\t" + rows.size() + "\t" + started + "\t" + System.nanoTime());
        return out.iterator();
    }

    /** The class labels the output names, by index ({@code task}'s, or the model's). */
    static List<String> labels(GlueTask task, List<String> modelLabels) {
        return task != null ? task.trainingTask().labels() : modelLabels;
    }
}
