package dev.convbert.spark;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.glue.GlueExample;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * Inputs as one schema: {@code row} (position in the input, the key that makes partitioning and output deterministic),
 * {@code id}, {@code text_a}, {@code text_b} (null for single sentences), {@code label} (null when unknown).
 */
final class SparkInputs {
    static final int ROW = 0;
    static final int ID = 1;
    static final int TEXT_A = 2;
    static final int TEXT_B = 3;
    static final int LABEL = 4;

    /** The inputs' schema, the label of type {@code label} (a GLUE split's is a string; a file's keeps its own). */
    static StructType schema(DataType label) {
        return new StructType(new StructField[]{
                DataTypes.createStructField("row", DataTypes.LongType, false),
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("text_a", DataTypes.StringType, false),
                DataTypes.createStructField("text_b", DataTypes.StringType, true),
                DataTypes.createStructField("label", label, true)});
    }

    /** The output's schema: the input's label passes through with its type. */
    static StructType output(DataType label) {
        return new StructType(new StructField[]{
                DataTypes.createStructField("row", DataTypes.LongType, false),
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("label", label, true),
                DataTypes.createStructField("logits", DataTypes.createArrayType(DataTypes.FloatType, false), false),
                DataTypes.createStructField("prediction", DataTypes.DoubleType, false),
                DataTypes.createStructField("predicted_label", DataTypes.StringType, true)});
    }

    private SparkInputs() {}

    /** GLUE rows read by core's reader on the driver (GLUE files are small); id = the file's index column. */
    static Dataset<Row> glue(SparkSession spark, List<GlueExample> examples) {
        List<Row> rows = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            GlueExample e = examples.get(i);
            rows.add(RowFactory.create((long) i, e.index(), e.textA(), e.textB(), e.label()));
        }
        return spark.createDataFrame(rows, schema(DataTypes.StringType));
    }

    /**
     * JSON lines or Parquet, read by Spark where the data lives. Columns are named by {@code textColumn},
     * {@code pairColumn}, {@code idColumn} and {@code labelColumn}; an absent id becomes the row's position, which
     * {@code zipWithIndex} numbers in file-split order — the same on every run over the same files.
     */
    static Dataset<Row> files(SparkSession spark, String path, String format, String textColumn, String pairColumn,
                              String idColumn, String labelColumn) {
        Dataset<Row> raw = switch (format) {
            case "jsonl" -> spark.read().json(path);
            case "parquet" -> spark.read().parquet(path);
            default -> throw new InvalidInputException("--input-format " + format + ": expected jsonl or parquet");
        };
        if (raw.isEmpty()) {
            // before the column checks: an empty file has no columns, and "no text column" would mislead
            throw new InvalidInputException(path + ": holds no rows; there is nothing to score");
        }
        List<String> have = Arrays.asList(raw.columns());
        require(have, textColumn, path, "--text-column");
        if (pairColumn != null) {
            require(have, pairColumn, path, "--pair-column");
        }
        Column id = have.contains(idColumn) ? col(idColumn).cast(DataTypes.StringType) : lit(null).cast(DataTypes.StringType);
        Column pair = pairColumn != null ? col(pairColumn).cast(DataTypes.StringType)
                : have.contains("text_b") && textColumn.equals("text_a") ? col("text_b").cast(DataTypes.StringType)
                : lit(null).cast(DataTypes.StringType);
        // the label keeps its type (an integer label stays an integer): spark-score passes it through untouched
        DataType labelType = have.contains(labelColumn) ? raw.schema().apply(labelColumn).dataType() : DataTypes.StringType;
        Column label = have.contains(labelColumn) ? col(labelColumn) : lit(null).cast(DataTypes.StringType);
        Dataset<Row> picked = raw.select(id, col(textColumn).cast(DataTypes.StringType), pair, label);
        JavaRDD<Row> numbered = picked.javaRDD().zipWithIndex().map(t -> {
            Row r = t._1();
            long row = t._2();
            if (r.isNullAt(1)) {
                throw new InvalidInputException(path + ": row " + (row + 1) + " has no \"" + textColumn + "\"");
            }
            return RowFactory.create(row, r.isNullAt(0) ? Long.toString(row) : r.getString(0), r.getString(1),
                    r.isNullAt(2) ? null : r.getString(2), r.isNullAt(3) ? null : r.get(3));
        });
        return spark.createDataFrame(numbered, schema(labelType));
    }

    /** jsonl for *.jsonl / *.json, parquet for *.parquet or a directory of parquet files. */
    static String formatOf(String path) {
        String p = path.toLowerCase(java.util.Locale.ROOT);
        if (p.endsWith(".jsonl") || p.endsWith(".json")) {
            return "jsonl";
        }
        if (p.endsWith(".parquet") || (Files.isDirectory(Path.of(path)) && p.contains("parquet"))) {
            return "parquet";
        }
        throw new InvalidInputException("--input " + path + ": cannot tell its format from the name; pass --input-format "
                + "jsonl or parquet");
    }

    private static void require(List<String> have, String column, String path, String option) {
        if (!have.contains(column)) {
            throw new InvalidInputException(path + ": no column \"" + column + "\" (" + option + "); it has " + have);
        }
    }
}
