package dev.convbert.spark;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spark ML transformer in a pipeline on local[2]: Spark ML's columns and types, and score's logits. */
@org.junit.jupiter.api.Timeout(180)
class ConvBertClassifierTest {
    @Test
    void addsSparkMlPredictionColumnsWithScoresLogits() throws Exception {
        List<GlueExample> dev = GlueReader.read(SparkScoreTest.GLUE, GlueTask.SST_2, "dev");
        float[][] want = SparkScoreTest.scoreLogits();
        try (SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate()) {
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < dev.size(); i++) {
                rows.add(RowFactory.create((long) i, dev.get(i).textA()));
            }
            StructType schema = new StructType().add("id", DataTypes.LongType).add("sentence", DataTypes.StringType);
            Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(3);
            ConvBertClassifier classifier = new ConvBertClassifier().setModelPath(SparkScoreTest.MODEL.toString())
                    .setVocabPath(SparkScoreTest.VOCAB.toString()).setTextCol("sentence");
            Dataset<Row> scored = new Pipeline().setStages(new PipelineStage[]{classifier}).fit(df).transform(df);

            StructType out = scored.schema();
            assertEquals(SQLDataTypes.VectorType(), out.apply("rawPrediction").dataType());
            assertEquals(SQLDataTypes.VectorType(), out.apply("probability").dataType());
            assertEquals(DataTypes.DoubleType, out.apply("prediction").dataType());
            List<Row> got = scored.orderBy("id").collectAsList();
            assertEquals(dev.size(), got.size());
            double max = 0;
            for (int i = 0; i < got.size(); i++) {
                Vector raw = got.get(i).getAs("rawPrediction");
                Vector p = got.get(i).getAs("probability");
                for (int c = 0; c < 2; c++) {
                    max = Math.max(max, Math.abs(raw.apply(c) - want[i][c]));
                }
                assertEquals(1.0, p.apply(0) + p.apply(1), 1e-9);
                assertEquals(want[i][1] > want[i][0] ? 1.0 : 0.0, (double) got.get(i).getAs("prediction"));
                assertEquals(dev.get(i).textA(), got.get(i).getAs("sentence"), "input columns are kept");
            }
            System.out.printf("ConvBertClassifier vs score: %d rows, max |Δlogit| %.2e%n", got.size(), max);
            assertTrue(max <= 1e-5, "max |Δlogit| " + max);

            var missing = assertThrows(InvalidInputException.class, () -> classifier.copy(new org.apache.spark.ml.param.ParamMap())
                    .setTextCol("text").transform(df));
            assertTrue(missing.getMessage().contains("textCol \"text\" is not a column"), missing.getMessage());
        }
    }
}
