package dev.convbert.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** spark-score on local[2] against score on the committed tiny SST-2 model (testdata/tiny-sst2). */
@org.junit.jupiter.api.Timeout(180)   // it talks to sockets, threads or processes: never hang the build
class SparkScoreTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final Path MODEL = TESTDATA.resolve("tiny-sst2/model.onnx");
    static final Path GLUE = TESTDATA.resolve("tiny-sst2/glue");
    static final Path VOCAB = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");

    static int run(StringWriter err, String... args) {
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute(args);
    }

    static List<Row> read(Path dir, String format) throws java.io.IOException {
        try (SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate()) {
            return spark.read().format(format).load(dir.toString()).orderBy("row").collectAsList();
        }
    }

    /** The logits score computes: the same tokenizer, the same length-sorted passes, the same session kind. */
    static float[][] scoreLogits() throws Exception {
        try (OrtModel m = OrtModel.open(MODEL, ExecutionProvider.cpu())) {
            var tok = new BertTokenizer(Vocab.read(VOCAB));
            return BatchRunner.logits(m, BatchRunner.encode(tok, GlueReader.read(GLUE, GlueTask.SST_2, "dev"), 128), 32, null);
        }
    }

    @Test
    void devSplitGivesScoresAccuracyAndLogits(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--task", "sst-2",
                "--data-dir", GLUE.toString(), "--output", dir.resolve("score.json").toString()), err.toString());
        double scoreAccuracy = new ObjectMapper().readTree(dir.resolve("score.json").toFile()).get("dev").get("main").asDouble();

        // the model as convbert optimize leaves it: its card says one pass at a time (local[2]'s default is two)
        Path optimized = dir.resolve("optimized.onnx");
        Files.copy(MODEL, optimized);
        var card = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(
                dev.convbert.core.modeldir.ExportFiles.card(MODEL).toFile());
        card.putObject(dev.convbert.runtime.score.RunSettings.CARD_KEY).put("provider", "cpu").put("workers", 1)
                .put("intra_op_threads", 2).put("cores", 2).put("objective", "throughput");
        Files.writeString(dev.convbert.core.modeldir.ExportFiles.card(optimized), card.toString());
        Path out = dir.resolve("spark");
        assertEquals(0, run(err, "spark-score", "--model", optimized.toString(), "--vocab", VOCAB.toString(), "--task", "sst-2",
                "--split", "dev", "--data-dir", GLUE.toString(), "--output", out.toString(), "--master", "local[2]"), err.toString());
        JsonNode summary = new ObjectMapper().readTree(out.resolve(SparkScoreCommand.SUMMARY).toFile());
        assertEquals(1, summary.get("passes_at_once_per_executor").asInt(), summary.toString());
        assertTrue(summary.get("run_settings").asText().startsWith("optimized.card.json"), summary.toString());
        assertEquals(scoreAccuracy, summary.get("metrics").get("accuracy").asDouble(), 0.0, "the same accuracy as score");
        assertTrue(summary.get("gate").get("passed").asBoolean());
        assertEquals(60, summary.get("rows").asLong());

        List<Row> rows = read(out, "parquet");
        float[][] want = scoreLogits();
        assertEquals(want.length, rows.size());
        double max = 0;
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(i, rows.get(i).getLong(0));
            List<Object> got = rows.get(i).getList(3);
            for (int c = 0; c < want[i].length; c++) {
                max = Math.max(max, Math.abs((Float) got.get(c) - want[i][c]));
            }
        }
        System.out.printf("spark-score vs score: %d rows, max |Δlogit| %.2e%n", rows.size(), max);
        assertTrue(max <= 1e-5, "max |Δlogit| " + max);
        assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary directory left");
    }

    @Test
    void testSplitWritesTheSubmissionScoreWrites(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--task", "sst-2",
                "--data-dir", GLUE.toString(), "--split", "test", "--submission-dir", dir.resolve("score").toString()), err.toString());
        Path out = dir.resolve("spark");
        // a run killed before its rename left its temporary directory; its driver (this host, a pid now gone) is dead
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path killed = Files.createDirectories(dir.resolve("spark.tmp-" + java.net.InetAddress.getLocalHost().getHostName() + "-"
                + gone.pid() + "-" + java.util.UUID.randomUUID()));
        Path foreign = Files.createDirectories(dir.resolve("spark.tmp-otherhost-1-" + java.util.UUID.randomUUID()));
        assertEquals(0, run(err, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--task", "sst-2",
                "--split", "test", "--data-dir", GLUE.toString(), "--output", out.toString(), "--master", "local[2]",
                "--format", "jsonl"), err.toString());
        assertFalse(Files.exists(killed), "the dead run's temporary directory is removed");
        assertTrue(Files.exists(foreign), "another host's may be live: named, kept");
        String want = Files.readString(dir.resolve("score/SST-2.tsv"));
        assertEquals(want, Files.readString(out.resolve("submission/SST-2.tsv")));
        assertEquals(11, want.lines().count(), "header and the 10 test rows");
        assertEquals(10, read(out, "json").size());
        // the part files, read in name order as a user concatenating them would, hold the rows in input order
        List<Long> order = new ArrayList<>();
        try (var files = Files.list(out)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (String line : Files.readAllLines(f)) {
                    order.add(new ObjectMapper().readTree(line).get("row").asLong());
                }
            }
        }
        assertEquals(java.util.stream.LongStream.range(0, 10).boxed().toList(), order);
    }

    /** A header-only split was exit 4 (UNRESOLVED_COLUMN row); an empty JSON-lines input is refused too. */
    @Test
    void emptyInputsAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path glue = Files.createDirectories(dir.resolve("glue/SST-2"));
        Files.writeString(glue.resolve("test.tsv"), "index\tsentence\n");
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--task", "sst-2",
                "--split", "test", "--data-dir", dir.resolve("glue").toString(), "--output", dir.resolve("o1").toString(),
                "--master", "local[1]"), err.toString());
        assertTrue(err.toString().contains(glue.resolve("test.tsv") + ": holds no examples (a header only)"), err.toString());
        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "");
        assertEquals(2, run(err, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--input", empty.toString(),
                "--output", dir.resolve("o2").toString(), "--master", "local[1]"), err.toString());
        assertTrue(err.toString().contains("empty.jsonl: holds no rows"), err.toString());
    }

    /** JSON lines in, with ids; the same texts as the GLUE path give the same logits; a missing column is exit 2. */
    @Test
    void jsonLinesInputKeepsIdsAndRefusesAMissingColumn(@TempDir Path dir) throws Exception {
        var examples = GlueReader.read(GLUE, GlueTask.SST_2, "dev");
        List<String> lines = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (var e : examples) {
            lines.add(json.createObjectNode().put("id", "r" + e.line()).put("text_a", e.textA())
                    .put("label", Integer.parseInt(e.label())).toString());
        }
        Path in = dir.resolve("in.jsonl");
        Files.write(in, lines);
        Path out = dir.resolve("out");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--input", in.toString(),
                "--output", out.toString(), "--master", "local[2]", "--partitions", "3"), err.toString());
        List<Row> rows = read(out, "parquet");
        float[][] want = scoreLogits();
        assertEquals(examples.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals("r" + examples.get(i).line(), rows.get(i).getString(1));
            assertEquals(want[i][0], (Float) rows.get(i).getList(3).get(0), 1e-5);
            assertEquals((long) Integer.parseInt(examples.get(i).label()), rows.get(i).get(2), "an integer label stays an integer");
        }

        // a rerun gives the same rows; an existing output is never overwritten
        Path again = dir.resolve("again");
        assertEquals(0, run(err, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--input", in.toString(),
                "--output", again.toString(), "--master", "local[2]", "--partitions", "3"), err.toString());
        assertEquals(rows, read(again, "parquet"), "a rerun writes the same rows");
        StringWriter exists = new StringWriter();
        assertEquals(2, run(exists, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--input",
                in.toString(), "--output", again.toString(), "--master", "local[1]"), exists.toString());
        assertTrue(exists.toString().contains("already exists"), exists.toString());

        StringWriter bad = new StringWriter();
        assertEquals(2, run(bad, "spark-score", "--model", MODEL.toString(), "--vocab", VOCAB.toString(), "--input", in.toString(),
                "--text-column", "sentence", "--output", dir.resolve("bad").toString()), bad.toString());
        assertTrue(bad.toString().contains("sentence"), bad.toString());
        assertFalse(Files.exists(dir.resolve("bad")));
    }

    /**
     * A task that fails on its first attempt is retried (local[2,3] allows 3 attempts) and Spark's committer keeps
     * exactly one output per partition: every input row once, none missing, none twice.
     */
    @Test
    void aRetriedTaskLeavesExactlyOneRowPerInput(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("retried");
        java.util.concurrent.atomic.AtomicInteger failedAttempts = new java.util.concurrent.atomic.AtomicInteger();
        try (SparkSession spark = SparkSession.builder().master("local[2,3]").config("spark.ui.enabled", "false").getOrCreate()) {
            spark.sparkContext().addSparkListener(new org.apache.spark.scheduler.SparkListener() {
                @Override
                public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
                    if (end.taskInfo().failed()) {
                        failedAttempts.incrementAndGet();
                    }
                }
            });
            ShippedModel shipped = ShippedModel.ship(spark.sparkContext(), MODEL, VOCAB);
            org.apache.spark.util.CollectionAccumulator<String> stats = spark.sparkContext().collectionAccumulator("stats");
            var in = SparkInputs.glue(spark, GlueReader.read(GLUE, GlueTask.SST_2, "dev"));
            var scored = SparkScoreCommand.scored(in, 4, new ScorePartition(shipped, 1, 0, 128, 32,
                    GlueTask.SST_2.labels(), stats));
            scored.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> {
                TaskContext task = TaskContext.get();
                if (task.partitionId() == 1 && task.attemptNumber() == 0) {
                    rows.next();        // half-way through the partition, as a lost executor would leave it
                    throw new IllegalStateException("first attempt fails");
                }
                return rows;
            }, Encoders.row(SparkInputs.output(org.apache.spark.sql.types.DataTypes.StringType))).write().parquet(out.toString());
        }
        assertEquals(1, failedAttempts.get(), "one attempt failed and was retried");
        List<Row> rows = read(out, "parquet");
        Set<Long> seen = new HashSet<>();
        rows.forEach(r -> seen.add(r.getLong(0)));
        assertEquals(60, rows.size(), "one row per input");
        assertEquals(60, seen.size(), "no row twice");
    }
}
