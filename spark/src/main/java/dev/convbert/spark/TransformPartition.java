package dev.convbert.spark;

import dev.convbert.core.predict.Softmax;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * {@link ConvBertClassifier}'s work on one partition: every input row comes back with the logits, the probabilities
 * and the prediction appended, in input order; the executor's shared session runs length-sorted passes.
 */
record TransformPartition(ShippedModel shipped, int textIndex, int pairIndex, int maxLength, int batchSize,
        boolean regression) implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        var part = ExecutorModel.Partition.read(input, r -> new String[]{r.isNullAt(textIndex) ? "" : r.getString(textIndex),
                pairIndex < 0 || r.isNullAt(pairIndex) ? null : r.getString(pairIndex)});
        List<Row> rows = part.rows();
        if (rows.isEmpty()) {
            return rows.iterator();
        }
        float[][] logits = ExecutorModel.get(shipped, 0, 0).logits(part.texts(), maxLength, batchSize);
        List<Row> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            float[] l = logits[i];
            double[] raw = new double[l.length];
            for (int c = 0; c < l.length; c++) {
                raw[c] = l[c];
            }
            double[] probability = regression ? raw : Softmax.probabilities(l);
            Object[] values = new Object[rows.get(i).length() + 3];
            for (int f = 0; f < rows.get(i).length(); f++) {
                values[f] = rows.get(i).get(f);
            }
            values[values.length - 3] = Vectors.dense(raw);
            values[values.length - 2] = Vectors.dense(probability);
            values[values.length - 1] = regression ? raw[0] : (double) Softmax.argmax(l);
            out.add(RowFactory.create(values));
        }
        return out.iterator();
    }
}
