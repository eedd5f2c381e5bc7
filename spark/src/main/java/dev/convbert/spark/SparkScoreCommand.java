package dev.convbert.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueSubmission;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.Progress;
import dev.convbert.core.metrics.GlueScore;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.cli.BatchOptions;
import dev.convbert.core.cli.ModelOptions;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.score.AccuracyGate;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.core.modeldir.ExportFiles;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.score.RunSettings;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/**
 * {@code convbert spark-score}: scores text with an exported model on Apache Spark — an embedded {@code local[*]}
 * session by default, or any cluster with {@code --master} / {@code spark-submit}. Output rows (Parquet, or JSON lines)
 * go through Spark's output committer into a temporary directory that is renamed into place when the job succeeded;
 * a GLUE dev split is also scored against its labels with the accuracy gate, a test split becomes a submission file.
 */
@Command(name = "spark-score",
        description = "Score text with an exported .onnx on Apache Spark (embedded local[*] by default). Inputs: a GLUE "
                + "split (--task, --split, --data-dir), JSON lines {\"text_a\", \"text_b\"} or Parquet (--input). "
                + "Writes Parquet (or --format jsonl) with id, label, logits, prediction, and _convbert.json beside the "
                + "rows.",
        footer = {"  convbert spark-score --model sst2.onnx --task sst-2 --split dev --data-dir $GLUE_DIR --output runs/sst2-spark",
                "  convbert spark-score --model sst2.onnx --input reviews.parquet --text-column body --output runs/reviews \\",
                "      --master 'local[4]'",
                "  spark-submit --class dev.convbert.spark.SparkScoreCommand convbert-spark-submit.jar --model sst2.onnx ..."})
public final class SparkScoreCommand implements Callable<Integer> {
    static final String SUMMARY = "_convbert.json";

    @Spec
    CommandSpec spec;

    @Option(names = "--output", required = true,
            description = "Output directory (must not exist): a local path or any Hadoop file system URI (hdfs://, s3a://, …).")
    String output;

    @Option(names = "--master", description = "local[*] (default unless spark-submit set one) or local[N]; a cluster (spark://…, yarn, "
            + "k8s://…) through spark-submit and the shaded jar, which ships this job's classes.")
    String master;

    @Option(names = "--task", description = "A GLUE task: read --split from --data-dir with core's reader (default: none; give --input instead).")
    String task;

    @Option(names = "--split", defaultValue = "dev", description = "GLUE split (default ${DEFAULT-VALUE}); dev applies the accuracy gate, test writes a submission.")
    String split;

    @Option(names = "--data-dir", description = "GLUE in its original layout (with --task; default: none).")
    Path dataDir;

    @Option(names = "--input", description = "JSON lines or Parquet, a file or a directory, local or any Hadoop file system URI (default: none; or --task).")
    String input;

    @Option(names = "--input-format", description = "jsonl or parquet (default: from --input's name).")
    String inputFormat;

    @Option(names = "--text-column", defaultValue = "text_a", description = "Column of the first text (default ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--pair-column", description = "Column of the second text (default: text_b when present).")
    String pairColumn;

    @Option(names = "--id-column", defaultValue = "id", description = "Column kept as id (default ${DEFAULT-VALUE}; absent: the row's position).")
    String idColumn;

    @Option(names = "--label-column", defaultValue = "label", description = "Column kept as label (default ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet or jsonl (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--partitions", description = "Partitions to score (default: Spark's default parallelism × 2).")
    Integer partitions;

    @picocli.CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();     // the model is shipped to every executor

    @picocli.CommandLine.Mixin
    BatchOptions batchOptions = new BatchOptions();

    @picocli.CommandLine.Mixin
    dev.convbert.runtime.cli.GateOptions gateOptions = new dev.convbert.runtime.cli.GateOptions();

    @Option(names = "--submission-dir", description = "Where a test split's GLUE submission goes (default: OUTPUT/submission).")
    Path submissionDir;

    /** spark-submit's entry point: the same options, the same exit codes. */
    public static void main(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "spark-score";
        System.arraycopy(args, 0, all, 1, args.length);
        System.exit(ConvBertCli.commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(all));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        long started = System.nanoTime();
        Path model = modelOptions.model();
        int batchSize = batchOptions.batchSize();
        GlueTask t = task == null ? null : GlueTask.fromId(task);
        if ((t == null) == (input == null)) {
            throw new InvalidInputException("give either --task with --data-dir (a GLUE split) or --input (JSON lines or Parquet)");
        }
        if (t != null && dataDir == null) {
            throw new InvalidInputException("--task needs --data-dir (GLUE in its original layout)");
        }
        if (!format.equals("parquet") && !format.equals("jsonl")) {
            throw new InvalidInputException("--format " + format + ": expected parquet or jsonl");
        }
        if (output.matches(".*[\\[\\]{}*?\\\\].*")) {
            throw new InvalidInputException("--output " + output + ": has one of [ ] { } * ? \\, which Hadoop file systems read as a "
                    + "pattern; choose a plain name");
        }

        List<GlueExample> examples = null;
        if (t != null) {
            if (!Files.isRegularFile(GlueReader.file(dataDir, t, split))) {
                throw new InvalidInputException(GlueReader.file(dataDir, t, split) + ": missing");
            }
            examples = GlueReader.read(dataDir, t, split);
        }

        SparkSession.Builder builder = SparkSession.builder().appName("convbert spark-score");
        SparkConf given = new SparkConf();
        if (master != null) {
            builder.master(master);
        } else if (!given.contains("spark.master")) {
            builder.master("local[*]");
        }
        String effective = master != null ? master : given.get("spark.master", "local[*]");
        if (!effective.startsWith("local") && !given.contains("spark.jars")) {
            // executors of a cluster load classes from the application's jar, which only spark-submit hands them
            throw new InvalidInputException("--master " + effective + ": a cluster's executors need this job's jar; submit "
                    + "spark/target/convbert-spark-*-spark-submit.jar with spark-submit (README, docs/SPARK.md), or "
                    + "use a local[N] master here");
        }
        if (!given.contains("spark.ui.enabled")) {
            builder.config("spark.ui.enabled", "false");       // no web UI port for a batch job nobody watches
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode summary = json.createObjectNode();
        List<String> labels;
        Path v;
        int maxLength;
        String precision;
        // the driver opens the model once, to check it before any executor does (labels, vocabulary) and for the
        // gate's training-time metric at the end; one thread, it scores nothing
        OrtModel m = OrtModel.open(model, ExecutionProvider.cpu(), 1);
        try {
            ScoringModel scoring = ScoringModel.classifier(m, modelOptions.spec(), "spark-score");
            v = scoring.vocab();
            maxLength = scoring.maxLength();
            if (t != null && m.config().numLabels() != t.trainingTask().numLabels()) {
                throw new InvalidInputException(model + ": has " + m.config().numLabels() + " labels but " + t.glueName()
                        + " needs " + t.trainingTask().numLabels());
            }
            labels = ScorePartition.labels(t, m.config().id2label());
            precision = m.metadata().getOrDefault("convbert.precision", "float32");
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }

        try (SparkSession spark = builder.getOrCreate();
             StagedOutput staged = StagedOutput.create(output, spark.sparkContext().hadoopConfiguration(), console)) {
            FileSystem fs = staged.fs();
            org.apache.hadoop.fs.Path out = staged.out();
            org.apache.hadoop.fs.Path tmp = staged.tmp();
            spark.sparkContext().setLogLevel("WARN");
            ShippedModel shipped = ShippedModel.ship(spark.sparkContext(), model, v);
            CollectionAccumulator<String> stats = spark.sparkContext().collectionAccumulator("convbert partitions");
            int threads = executorCores(spark.sparkContext().getConf());
            // what convbert optimize measured best on the CPU, recorded in the export's card; 0: the default
            var recorded = RunSettings.recorded(model).filter(r -> r.provider().equals("cpu"));
            int workers = recorded.map(RunSettings.Recorded::workers).orElse(0);

            Dataset<Row> in = t != null ? SparkInputs.glue(spark, examples)
                    : SparkInputs.files(spark, input, inputFormat != null ? inputFormat : SparkInputs.formatOf(input),
                    textColumn, pairColumn, idColumn, labelColumn);
            int n = partitions != null ? partitions : Math.max(1, spark.sparkContext().defaultParallelism() * 2);
            Dataset<Row> scored = scored(in, n, new ScorePartition(shipped, threads, workers, maxLength, batchSize, labels,
                    stats));
            long jobStarted = System.nanoTime();

            try (Progress progress = Progress.start("spark-score", n, "partition")) {
                spark.sparkContext().addSparkListener(new SparkListener() {
                    @Override
                    public void onTaskEnd(SparkListenerTaskEnd end) {
                        // a scored partition is a write task that wrote rows (an empty partition does not tick)
                        if (end.taskInfo().successful() && end.taskMetrics() != null
                                && end.taskMetrics().outputMetrics().recordsWritten() > 0) {
                            progress.step(1);
                        }
                    }
                });
                write(scored, tmp.toString());
            } catch (Exception e) {      // Spark throws its checked SparkException undeclared
                throw unwrap(e);
            }
            double seconds = (System.nanoTime() - jobStarted) / 1e9;

            // what was written is what is scored: read it back, in input order
            List<Row> written = spark.read().format(format.equals("jsonl") ? "json" : "parquet").load(tmp.toString())
                    .select("row", "prediction").orderBy("row").collectAsList();
            long rows = written.size();
            summary.put("model", model.toString());
            summary.put("max_length", maxLength);
            summary.put("precision", precision);
            summary.put("master", spark.sparkContext().master());
            summary.put("spark_version", spark.version());
            summary.put("input", t != null ? GlueReader.file(dataDir, t, split).toString() : input);
            summary.put("rows", rows);
            summary.put("partitions", n);
            summary.put("executor_cores", threads > 0 ? Integer.toString(threads) : "executor's processors");
            if (threads > 0) {                              // as ExecutorModel opens the session
                int passes = workers > 0 ? workers : OrtModel.concurrentPasses(threads);
                summary.put("passes_at_once_per_executor", passes);
                summary.put("intra_op_threads", OrtModel.threadsPerPass(threads, passes));
            }
            summary.put("run_settings", recorded.isPresent() ? ExportFiles.card(model).getFileName() + " (convbert optimize)" : "default");
            summary.put("seconds", seconds);
            summary.put("rows_per_s", rows / seconds);
            summary.put("wall_seconds_with_session_start", (System.nanoTime() - started) / 1e9);
            summary.set("executors", executors(stats.value(), json));
            console.printf(Locale.ROOT, "spark-score: %d rows in %d partitions in %.1f s (%.1f rows/s overall; %.1f s with the "
                            + "session's start) on %s%n", rows, n, seconds, rows / seconds, (System.nanoTime() - started) / 1e9,
                    spark.sparkContext().master());
            summary.get("executors").forEach(e -> console.printf(Locale.ROOT, "  executor %s: %d rows, %.1f rows/s from its first partition's start to its last one's end%n",
                    e.get("executor").asText(), e.get("rows").asLong(), e.get("rows_per_s").asDouble()));

            boolean failed = false;
            if (t != null) {
                if (rows != examples.size()) {
                    throw new CommandFailedException(tmp + ": " + rows + " rows written for " + examples.size() + " inputs");
                }
                double[] predictions = written.stream().mapToDouble(r -> r.getDouble(1)).toArray();
                if (t.split(split).submission() != null) {
                    Path local = submissionDir != null ? submissionDir : Files.createTempDirectory("convbert-submission");
                    Path f = GlueSubmission.write(local, t, split, examples, predictions);
                    if (submissionDir == null) {         // into the output, wherever it lives
                        fs.copyFromLocalFile(true, new org.apache.hadoop.fs.Path(f.toUri()),
                                new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(tmp, "submission"), f.getFileName().toString()));
                        Files.deleteIfExists(local);
                    }
                    summary.put("submission", submissionDir != null ? f.toString()
                            : new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(out, "submission"), f.getFileName().toString()).toString());
                } else {
                    GlueScore score = GlueScore.of(t, split, predictions, BatchRunner.gold(t, examples));
                    AccuracyGate gate = AccuracyGate.of(m, score, gateOptions.tolerance(m),
                            GlueReader.file(dataDir, t, split));
                    console.println(score);
                    console.println("accuracy gate: " + gate.report());
                    summary.set("metrics", json.valueToTree(new TreeMap<>(score.metrics())));
                    ObjectNode g = summary.putObject("gate");
                    g.put("report", gate.report());
                    g.put("applied", gate.applied());
                    g.put("passed", gate.passed());
                    failed = !gate.passed();
                }
            }
            try (var o = fs.create(new org.apache.hadoop.fs.Path(tmp, SUMMARY), false)) {
                o.write((json.writeValueAsString(summary) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            staged.commit();
            if (failed) {
                throw new CommandFailedException("accuracy gate failed for " + model + "; rows and report in " + out);
            }
        } finally {
            m.close();
        }
        return ExitCodes.OK;
    }

    /**
     * The rows scored in input order: partitions hold consecutive row ranges, sorted, so the output's part files read
     * in name order give the input's order (a hash partitioning scattered it).
     */
    static Dataset<Row> scored(Dataset<Row> in, int partitions, ScorePartition score) {
        return in.repartitionByRange(partitions, col("row")).sortWithinPartitions(col("row"))
                .mapPartitions(score, Encoders.row(SparkInputs.output(in.schema().apply("label").dataType())));
    }

    private void write(Dataset<Row> scored, String dir) {
        if (format.equals("jsonl")) {
            scored.write().json(dir);
        } else {
            scored.write().parquet(dir);
        }
    }

    /**
     * Intra-op threads for each executor's session: spark.executor.cores when set, N of local[N], and otherwise 0 —
     * the executor's own processor count, read where it runs.
     */
    static int executorCores(SparkConf conf) {
        if (conf.contains("spark.executor.cores")) {
            return conf.getInt("spark.executor.cores", 1);
        }
        String m = conf.get("spark.master", "local[*]");
        java.util.regex.Matcher local = java.util.regex.Pattern.compile("local\\[(\\d+|\\*)(,\\d+)?]").matcher(m);
        if (local.matches()) {
            return local.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(local.group(1));
        }
        return m.equals("local") ? 1 : 0;
    }

    /**
     * Per executor: rows, partitions, and the span from its first partition's start to its last one's end — tasks of
     * one executor overlap, so their own times would count the shared session twice.
     */
    private static ArrayNode executors(List<String> stats, ObjectMapper json) {
        Map<String, long[]> byExecutor = new TreeMap<>();
        for (String s : stats) {
            String[] f = s.split("\t");
            long[] acc = byExecutor.computeIfAbsent(f[0], k -> new long[]{0, 0, Long.MAX_VALUE, Long.MIN_VALUE});
            acc[0] += Long.parseLong(f[1]);
            acc[1]++;
            acc[2] = Math.min(acc[2], Long.parseLong(f[2]));
            acc[3] = Math.max(acc[3], Long.parseLong(f[3]));
        }
        ArrayNode out = json.createArrayNode();
        byExecutor.forEach((id, a) -> {
            double span = Math.max((a[3] - a[2]) / 1e9, 1e-9);
            out.addObject().put("executor", id).put("rows", a[0]).put("partitions", a[1]).put("busy_seconds", span)
                    .put("rows_per_s", a[0] / span);
        });
        return out;
    }

    /** A bad input found on an executor reaches the driver wrapped; its own exit code (2) must survive. */
    private static RuntimeException unwrap(Exception e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof InvalidInputException bad) {
                return bad;
            }
        }
        if (e instanceof SparkException) {
            return new CommandFailedException("the Spark job failed: " + e.getMessage());
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }

}
