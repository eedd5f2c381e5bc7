package dev.convbert.spark;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.predict.ModelSpec;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * An exported ConvBERT classifier as a Spark ML {@link Transformer}, for users who score inside their own pipelines:
 * it takes a text column (and, for pair tasks, a second one) and adds Spark ML's own prediction columns —
 * {@code rawPrediction} (the logits, a vector), {@code probability} (their softmax, a vector) and {@code prediction}
 * (the class index as a double; for regression the predicted value). Each executor opens the model once and shares it
 * between its tasks, as {@code spark-score} does; texts are cut where training cut them unless {@code maxLength} says
 * otherwise. From spark-shell: {@code new dev.convbert.spark.ConvBertClassifier().setModelPath("sst2.onnx")
 * .setTextCol("sentence").transform(df)}; from PySpark through {@code python/convbert_spark.py}.
 */
public final class ConvBertClassifier extends Transformer {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> vocabPath;
    private final Param<String> textCol;
    private final Param<String> pairCol;
    private final IntParam maxLength;
    private final IntParam batchSize;
    private final Param<String> rawPredictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> predictionCol;

    public ConvBertClassifier() {
        this(Identifiable.randomUID("convbert"));
    }

    public ConvBertClassifier(String uid) {
        this.uid = uid;
        // after uid: a Param records its parent's uid when it is made
        modelPath = new Param<>(this, "modelPath", "an .onnx written by 'convbert export'");
        vocabPath = new Param<>(this, "vocabPath", "vocab.txt (default: the model's own)");
        textCol = new Param<>(this, "textCol", "column of the first text");
        pairCol = new Param<>(this, "pairCol", "column of the second text (pair tasks; empty: none)");
        maxLength = new IntParam(this, "maxLength", "tokens texts are cut at (0: the model's trained length)",
                ParamValidators.gtEq(0));
        batchSize = new IntParam(this, "batchSize", "rows per forward pass", ParamValidators.gt(0));
        rawPredictionCol = new Param<>(this, "rawPredictionCol", "output column of the logits");
        probabilityCol = new Param<>(this, "probabilityCol", "output column of the class probabilities");
        predictionCol = new Param<>(this, "predictionCol", "output column of the predicted class");
        setDefault(vocabPath, "");
        setDefault(textCol, "text");
        setDefault(pairCol, "");
        setDefault(maxLength, 0);
        setDefault(batchSize, 32);
        setDefault(rawPredictionCol, "rawPrediction");
        setDefault(probabilityCol, "probability");
        setDefault(predictionCol, "prediction");
    }

    // Spark ML finds a stage's params through public no-argument methods that return them (Params.params)
    public Param<String> modelPath() {
        return modelPath;
    }

    public Param<String> vocabPath() {
        return vocabPath;
    }

    public Param<String> textCol() {
        return textCol;
    }

    public Param<String> pairCol() {
        return pairCol;
    }

    public IntParam maxLength() {
        return maxLength;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> rawPredictionCol() {
        return rawPredictionCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    @Override
    public String uid() {
        return uid;
    }

    public ConvBertClassifier setModelPath(String v) {
        set(modelPath, v);
        return this;
    }

    public ConvBertClassifier setVocabPath(String v) {
        set(vocabPath, v);
        return this;
    }

    public ConvBertClassifier setTextCol(String v) {
        set(textCol, v);
        return this;
    }

    public ConvBertClassifier setPairCol(String v) {
        set(pairCol, v);
        return this;
    }

    public ConvBertClassifier setMaxLength(int v) {
        set(maxLength, v);
        return this;
    }

    public ConvBertClassifier setBatchSize(int v) {
        set(batchSize, v);
        return this;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        requireString(schema, $(textCol), "textCol");
        if (!$(pairCol).isEmpty()) {
            requireString(schema, $(pairCol), "pairCol");
        }
        for (String out : List.of($(rawPredictionCol), $(probabilityCol), $(predictionCol))) {
            if (Arrays.asList(schema.fieldNames()).contains(out)) {
                throw new InvalidInputException("output column \"" + out + "\" already exists in the input");
            }
        }
        return schema.add($(rawPredictionCol), SQLDataTypes.VectorType(), false)
                .add($(probabilityCol), SQLDataTypes.VectorType(), false)
                .add($(predictionCol), DataTypes.DoubleType, false);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        if (!isDefined(modelPath)) {
            throw new InvalidInputException("ConvBertClassifier: setModelPath(\"model.onnx\") first");
        }
        StructType out = transformSchema(dataset.schema());
        Path model = Path.of($(modelPath));
        Path vocab;
        int length;
        List<String> labels;
        // the driver opens the model once to check it before any executor does: a head, its vocabulary, its length
        try (OrtModel m = OrtModel.open(model, ExecutionProvider.cpu(), 1)) {
            ScoringModel scoring = ScoringModel.classifier(m, new ModelSpec(model,
                    $(vocabPath).isEmpty() ? null : Path.of($(vocabPath)), intParam(maxLength) == 0 ? null : intParam(maxLength)),
                    "ConvBertClassifier");
            vocab = scoring.vocab();
            length = scoring.maxLength();
            labels = scoring.labels();
        }
        SparkSession spark = dataset.sparkSession();
        ShippedModel shipped;
        try {
            shipped = ShippedModel.ship(spark.sparkContext(), model, vocab);
        } catch (IOException e) {
            throw new UncheckedIOException(model + ": cannot be read: " + e.getMessage(), e);
        }
        StructType in = dataset.schema();
        int textIndex = in.fieldIndex($(textCol));
        int pairIndex = $(pairCol).isEmpty() ? -1 : in.fieldIndex($(pairCol));
        TransformPartition partition = new TransformPartition(shipped, textIndex, pairIndex, length, intParam(batchSize),
                labels.size() == 1);
        return dataset.toDF().mapPartitions(partition, Encoders.row(out));
    }

    @Override
    public ConvBertClassifier copy(ParamMap extra) {
        return this.<ConvBertClassifier>defaultCopy(extra);
    }

    /** An IntParam's value (Scala's Int reaches Java as Object). */
    private int intParam(IntParam p) {
        return (Integer) $(p);
    }

    private static void requireString(StructType schema, String column, String param) {
        List<String> names = Arrays.asList(schema.fieldNames());
        if (!names.contains(column)) {
            throw new InvalidInputException(param + " \"" + column + "\" is not a column; the input has " + names);
        }
        StructField f = schema.apply(column);
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new InvalidInputException(param + " \"" + column + "\" is " + f.dataType().simpleString() + "; expected a string column");
        }
    }
}
