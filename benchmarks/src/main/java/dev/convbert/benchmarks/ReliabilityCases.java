package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.OutputLock;
import dev.convbert.core.modeldir.ModelDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code convbert reliability-cases}: runs hostile-but-fair inputs through the real commands (in this process) and
 * writes what each gets — exit code and first line of the message — as docs/RELIABILITY.md and JSON. Each case states
 * the exit code it must get; any other fails the run, so the table stays true ({@code ReliabilityCasesTest} runs it in
 * CI). Server cases (slow clients, faults) are exercised by the runtime's ServerFaultsTest and listed at the end.
 */
@Command(name = "reliability-cases",
        description = "Run the reliability cases (bad input, damaged files, mismatched vocabularies, interrupted outputs) "
                + "through the real commands and write the table of what each gets (exit code, message).",
        footer = "  convbert reliability-cases --testdata testdata --output docs/RELIABILITY.md")
public final class ReliabilityCases implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    TestdataOption testdata = new TestdataOption();

    @Option(names = "--output", required = true, description = "The Markdown table to write (JSON beside it).")
    Path output;

    @Option(names = "--work", description = "Scratch directory (default: a temporary one, deleted after).")
    Path work;

    /** One case: what is tried, the command line, and the exit code it must get. */
    record Case(String area, String input, int expected, List<String> args) {}

    /** What a case got. */
    record Outcome(Case c, int exit, String message) {
        boolean ok() {
            return exit == c.expected;
        }
    }

    @Override
    public Integer call() throws Exception {
        Path dir = work != null ? Files.createDirectories(work) : Files.createTempDirectory("convbert-reliability");
        try {
            runCases(dir);
            write(outcomes);
            List<String> wrong = outcomes.stream().filter(o -> !o.ok())
                    .map(o -> o.c.input + ": exit " + o.exit + ", expected " + o.c.expected + " (" + o.message + ")").toList();
            System.out.printf("%d cases, %d as expected; table in %s%n", outcomes.size(), outcomes.size() - wrong.size(), output);
            if (!wrong.isEmpty()) {
                throw new CommandFailedException("cases with another exit code than expected:\n  " + String.join("\n  ", wrong));
            }
            return ExitCodes.OK;
        } finally {
            if (work == null) {
                AtomicFiles.deleteTree(dir);
            }
        }
    }

    private Outcome run(Case c) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ConvBertCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(c.args.toArray(String[]::new));
        String text = err.toString().lines().filter(l -> l.startsWith("error:") || l.startsWith("warning:")).findFirst()
                .map(l -> exit == 0 ? l : l + evidence(c))
                .orElse(exit == 0 ? "ok" + evidence(c) : err.toString().strip());
        return new Outcome(c, exit, text.replace('|', '/'));
    }

    /** For a build-data case that succeeds, what its manifest reports, which is the point of the case. */
    private static String evidence(Case c) {
        int i = c.args.indexOf("--output");
        if (c.args.get(0).equals("export") && i >= 0) {
            return "; " + Path.of(c.args.get(i + 1)).getFileName() + (Files.exists(Path.of(c.args.get(i + 1))) ? " written" : " not written");
        }
        if (c.args.get(0).equals("finetune") && c.args.contains("--resume") && i >= 0) {
            try {
                return Files.readAllLines(Path.of(c.args.get(i + 1), "train.log")).stream()
                        .filter(l -> l.contains("falling back")).map(l -> "; train.log: " + l.substring(l.indexOf(' ') + 1))
                        .findFirst().orElse("");
            } catch (IOException e) {
                return "; no train.log: " + e.getMessage();
            }
        }
        if (!c.args.get(0).equals("build-data") || i < 0) {
            return "";
        }
        try {
            Path manifest = Path.of(c.args.get(i + 1), "manifest.json");
            if (!Files.isRegularFile(manifest)) {
                return "";
            }
            var problems = new ObjectMapper().readTree(manifest.toFile()).path("problems");
            // the last problem: a damaged file's report comes after the notes on the documents read before the damage
            return problems.isEmpty() ? "; no problems reported" : "; manifest problems: " + problems.get(problems.size() - 1).asText();
        } catch (IOException e) {
            return "; manifest unreadable: " + e.getMessage();
        }
    }

    private final List<Outcome> outcomes = new ArrayList<>();

    /** Runs one case now (later cases use what earlier ones made). */
    private void add(Case c) {
        outcomes.add(run(c));
    }

    /** The cases, in order, with the fixtures they need made under {@code dir} from testdata/. */
    private void runCases(Path dir) throws IOException {
        Path vocab = testdata.vocab();
        Path tinyOnnx = testdata.resolve("tiny-sst2/model.onnx");
        Path tinyGlue = testdata.resolve("tiny-sst2/glue");
        Path tinyConfig = testdata.resolve("tiny-sst2/config-tiny.json");

        // vocabularies
        List<String> lines = new ArrayList<>(Files.readAllLines(vocab));
        Collections.swap(lines, lines.indexOf("good"), lines.indexOf("bad"));
        Path swapped = Files.write(dir.resolve("swapped-vocab.txt"), lines);
        List<String> longer = new ArrayList<>(Files.readAllLines(vocab));
        longer.addAll(List.of("[EXTRA1]", "[EXTRA2]"));
        Path larger = Files.write(dir.resolve("larger-vocab.txt"), longer);
        Path text = Files.writeString(dir.resolve("in.jsonl"), "{\"text_a\": \"this is a good movie\"}\n");
        add(new Case("vocabulary", "predict with an .onnx and a vocab.txt with two tokens swapped", 2,
                List.of("predict", "--model", tinyOnnx.toString(), "--input", text.toString(), "--output",
                        dir.resolve("p1.jsonl").toString(), "--vocab", swapped.toString())));
        add(new Case("vocabulary", "score with that vocabulary", 2,
                List.of("score", "--model", tinyOnnx.toString(), "--task", "sst-2", "--data-dir", tinyGlue.toString(),
                        "--split", "dev", "--vocab", swapped.toString())));
        add(new Case("vocabulary", "serve with that vocabulary", 2,
                List.of("serve", "--model", tinyOnnx.toString(), "--port", "0", "--vocab", swapped.toString())));
        add(new Case("vocabulary", "predict with a vocab.txt larger than vocab_size", 2,
                List.of("predict", "--model", tinyOnnx.toString(), "--input", text.toString(), "--output",
                        dir.resolve("p2.jsonl").toString(), "--vocab", larger.toString())));

        // a small fine-tuned model directory to damage
        Path run = dir.resolve("run");
        add(new Case("training", "finetune (2 steps; the model the next cases use)", 0, finetune(tinyGlue, tinyConfig, vocab, run)));
        List<String> resume = new ArrayList<>(finetune(tinyGlue, tinyConfig, swapped, run));
        resume.add("--resume");
        add(new Case("vocabulary", "finetune --resume with another --vocab", 2, resume));
        add(new Case("vocabulary", "finetune --model DIR with another --vocab", 2,
                List.of("finetune", "--task", "sst-2", "--data-dir", tinyGlue.toString(), "--model", run.toString(),
                        "--vocab", swapped.toString(), "--output", dir.resolve("run2").toString(), "--max-steps", "1")));

        trainingRuns(dir, run, tinyGlue, tinyConfig, vocab);
        edges(dir, tinyOnnx, tinyGlue, vocab, text);

        List<String> diverging = new ArrayList<>(finetune(tinyGlue, tinyConfig, vocab, dir.resolve("diverging")));
        diverging.addAll(List.of("--lr", "1e30", "--max-grad-norm", "1e30"));
        add(new Case("training", "finetune with --lr 1e30 (the loss diverges): a failed run, not a bug", 1, diverging));

        // configs
        for (String[] bad : new String[][]{{"layer_norm_eps", "0"}, {"num_hidden_layers", "1000000000"},
                {"hidden_dropout_prob", "1.5"}, {"pad_token_id", "-1"}}) {
            String json = Files.readString(tinyConfig).replaceFirst("\"" + bad[0] + "\": [^,\\n]+", "\"" + bad[0] + "\": " + bad[1]);
            Path cfg = Files.writeString(dir.resolve("config-" + bad[0] + ".json"), json);
            add(new Case("config", bad[0] + " = " + bad[1], 2, finetune(tinyGlue, cfg, vocab, dir.resolve("bad-" + bad[0]))));
        }

        // damaged model directories and data
        Path i32 = HostileFiles.copyModel(run, dir.resolve("i32"));
        HostileFiles.retypeFirstTensor(i32.resolve(ModelDir.WEIGHTS), "I32");
        add(new Case("model directory", "a safetensors dtype changed from F32 to I32 (same size)", 2,
                List.of("predict", "--model", i32.toString(), "--input", text.toString(), "--output", dir.resolve("p3.jsonl").toString())));
        Path unfinished = HostileFiles.copyModel(run, dir.resolve("unfinished"));
        Files.writeString(unfinished.resolve(ModelDir.RUN_CHECKPOINT), "{}");
        Files.delete(unfinished.resolve(ModelDir.TRAINING_METRICS));
        add(new Case("model directory", "a fine-tuning output cut off mid-run (checkpoint, no training_metrics.json)", 2,
                List.of("export", "--model", unfinished.toString(), "--output", dir.resolve("u.onnx").toString())));
        Path blocked = Files.createDirectories(dir.resolve("blocked"));
        Files.createDirectories(blocked.resolve("model.vocab.txt").resolve("in-the-way"));
        add(new Case("outputs", "export whose model.vocab.txt cannot be written (a directory is in the way): no model.onnx may appear", 1,
                List.of("export", "--model", run.toString(), "--output", blocked.resolve("model.onnx").toString())));
        Path headerOnly = HostileFiles.glueCopy(tinyGlue, dir.resolve("glue-header-only"));
        Files.writeString(headerOnly.resolve("SST-2/train.tsv"), "sentence\tlabel\n");
        add(new Case("data", "a GLUE train file with only its header", 2, finetune(headerOnly, tinyConfig, vocab, dir.resolve("r3"))));
        Path dupIndex = HostileFiles.glueCopy(tinyGlue, dir.resolve("glue-dup-index"));
        Files.writeString(dupIndex.resolve("SST-2/test.tsv"), "index\tsentence\n0\ta fine film\n0\ta dull film\n");
        add(new Case("data", "a GLUE test file with a repeated index", 2,
                List.of("predict-glue", "--task", "sst-2", "--data-dir", dupIndex.toString(), "--model", tinyOnnx.toString(),
                        "--output", dir.resolve("sub1").toString(), "--vocab", vocab.toString())));
        Path badIndex = HostileFiles.glueCopy(tinyGlue, dir.resolve("glue-bad-index"));
        Files.writeString(badIndex.resolve("SST-2/test.tsv"), "index\tsentence\n0\ta fine film\nx7\ta dull film\n");
        add(new Case("data", "a GLUE test file with a non-numeric index", 2,
                List.of("predict-glue", "--task", "sst-2", "--data-dir", badIndex.toString(), "--model", tinyOnnx.toString(),
                        "--output", dir.resolve("sub2").toString(), "--vocab", vocab.toString())));
        Path latin1 = Files.write(dir.resolve("latin1.jsonl"), "{\"text_a\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        add(new Case("data", "tokenize a JSONL file that is not UTF-8", 2,
                List.of("tokenize", "--vocab", vocab.toString(), "--input", latin1.toString(), "--output", dir.resolve("t.jsonl").toString())));

        // checkpoints
        Path pickle = Files.write(dir.resolve("pytorch_model.bin"), HostileFiles.evilPickle());
        add(new Case("checkpoint", "convert a pytorch_model.bin whose pickle calls os.system", 2,
                List.of("convert", "--from", pickle.toString(), "--output", dir.resolve("evil").toString())));
        Path tf = Files.createDirectories(dir.resolve("tf"));
        try (var s = Files.list(testdata.resolve("interop/public-tiny/tf"))) {
            for (Path f : s.toList()) {
                Files.copy(f, tf.resolve(f.getFileName()));
            }
        }
        Path data = tf.resolve("model.ckpt-1000.data-00000-of-00001");
        byte[] b = Files.readAllBytes(data);
        b[b.length / 2] ^= 1;
        Files.write(data, b);
        add(new Case("checkpoint", "inspect a TF checkpoint with one flipped bit", 2, List.of("inspect-checkpoint", tf.toString())));
        add(new Case("checkpoint", "export a converted encoder without --hidden-states", 2, encoderExport(dir)));

        // corpora
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("a.txt"), "A short document.\nWith two lines.\n");
        Files.writeString(dir.resolve("outside.txt"), "Outside the corpus.\n");
        Files.createSymbolicLink(corpus.resolve("link.txt"), dir.resolve("outside.txt"));
        Path bombCorpus = Files.createDirectories(dir.resolve("bomb"));
        try (var out = new org.tukaani.xz.XZOutputStream(Files.newOutputStream(bombCorpus.resolve("small.xz")),
                new org.tukaani.xz.LZMA2Options(1))) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                out.write(zeros);       // 64 MiB of zeros in a few KB: a decompression bomb in miniature
            }
        }
        add(new Case("corpus", "build-data on a " + Files.size(bombCorpus.resolve("small.xz")) / 1024 + " KB .xz that expands to 64 MiB, "
                + "--max-document-bytes 1000000 (reported and skipped, never loaded)", 0,
                List.of("build-data", "--corpus", bombCorpus.toString(), "--vocab", vocab.toString(), "--output",
                        dir.resolve("bomb-shards").toString(), "--max-document-bytes", "1000000")));
        add(new Case("corpus", "build-data over a corpus with a symbolic link to a file outside it (reported, not followed)", 0,
                List.of("build-data", "--corpus", corpus.toString(), "--vocab", vocab.toString(), "--output", dir.resolve("shards").toString())));
    }

    /**
     * What jobs meet: a second writer, checkpoints damaged on disk or pointing elsewhere, data rebuilt under a run, a
     * corpus cut off or holding the output. (Signals need a process of their own: InterruptedRunTest, listed below.)
     */
    private void trainingRuns(Path dir, Path run, Path glue, Path config, Path vocab) throws IOException {
        Path held = dir.resolve("held");
        try (OutputLock lock = OutputLock.acquire(held, "finetune sst-2 (this process)")) {
            add(new Case("training", "a second finetune into an --output another run is writing to", 2,
                    finetune(glue, config, vocab, held)));
        }
        Path damaged = AtomicFiles.copyTree(run, dir.resolve("damaged-newest"));
        HostileFiles.flipLastByte(damaged.resolve("checkpoint-00000002/model.safetensors"));
        add(new Case("training", "finetune --resume when the newest checkpoint's weights changed on disk (falls back to the "
                + "previous one, saying so)", 0, resume(finetune(glue, config, vocab, damaged))));
        Path allDamaged = AtomicFiles.copyTree(run, dir.resolve("all-damaged"));
        HostileFiles.flipLastByte(allDamaged.resolve("checkpoint-00000002/model.safetensors"));
        HostileFiles.flipLastByte(allDamaged.resolve("checkpoint-00000001/optimizer.safetensors"));
        add(new Case("training", "finetune --resume when every checkpoint is damaged", 2,
                resume(finetune(glue, config, vocab, allDamaged))));
        Path escape = AtomicFiles.copyTree(run, dir.resolve("escape"));
        Files.writeString(escape.resolve(ModelDir.RUN_CHECKPOINT), "{\"step\": 2, \"dir\": \"../run/checkpoint-00000002\"}");
        add(new Case("training", "finetune --resume with a checkpoint.json that points outside --output", 2,
                resume(finetune(glue, config, vocab, escape))));

        Path corpus = Files.createDirectories(dir.resolve("pretrain-corpus"));
        Files.writeString(corpus.resolve("a.txt"), "The river ran quietly past the old mill.\nThe miller watched it every morning.\n"
                .repeat(20));
        Path data = dir.resolve("pretrain-data");
        List<String> build = List.of("build-data", "--corpus", corpus.toString(), "--vocab", vocab.toString(), "--output",
                data.toString(), "--max-seq-length", "64");
        run(new Case("", "", 0, build));
        List<String> pretrain = List.of("pretrain", "--data", data.toString(), "--config", config.toString(), "--output",
                dir.resolve("pretrain-run").toString(), "--max-steps", "4", "--batch-size", "2", "--save-every", "1");
        List<String> firstSteps = new ArrayList<>(pretrain);
        firstSteps.addAll(List.of("--stop-after", "1"));
        run(new Case("", "", 0, firstSteps));
        Files.writeString(corpus.resolve("a.txt"), Files.readString(corpus.resolve("a.txt")).replaceFirst("quietly", "swiftly"));
        run(new Case("", "", 0, build));
        add(new Case("training", "pretrain --resume after build-data rebuilt its data in place (same example count)", 2,
                resume(pretrain)));

        add(new Case("corpus", "build-data with --output inside --corpus", 2, List.of("build-data", "--corpus",
                corpus.toString(), "--vocab", vocab.toString(), "--output", corpus.resolve("shards").toString())));
        Path cut = Files.createDirectories(dir.resolve("cut-corpus"));
        byte[] owt = Files.readAllBytes(testdata.resolve("openwebtext-sample/openwebtext/urlsf_subset00-1_data.xz"));
        Files.write(cut.resolve("urlsf_subset00-1_data.xz"), java.util.Arrays.copyOf(owt, 50_000));
        add(new Case("corpus", "build-data over an OpenWebText .xz cut at 50,000 of its " + owt.length + " bytes (the "
                + "documents before the cut are kept)", 0, List.of("build-data", "--corpus", cut.toString(), "--vocab",
                vocab.toString(), "--output", dir.resolve("cut-shards").toString())));
        Path oneLine = Files.createDirectories(dir.resolve("one-line-corpus"));
        Files.writeString(oneLine.resolve("one-line.txt"), "the river ran past the mill ".repeat(50_000) + "\n");
        add(new Case("corpus", "build-data over a 1.4 MB document that is one line (cut to one example: counted and named)", 0,
                List.of("build-data", "--corpus", oneLine.toString(), "--vocab", vocab.toString(), "--output",
                        dir.resolve("one-line-shards").toString())));
    }

    /** The edges of predict, score and the importers: outputs that are inputs or devices, ids, empty or changed data. */
    private void edges(Path dir, Path onnx, Path glue, Path vocab, Path text) throws IOException {
        Path in = Files.copy(text, dir.resolve("edge-in.jsonl"));
        add(new Case("outputs", "predict --output that is the --input file (by another name)", 2, List.of("predict", "--model",
                onnx.toString(), "--vocab", vocab.toString(), "--input", in.toString(), "--output", dir.resolve("./edge-in.jsonl").toString())));
        add(new Case("outputs", "predict --output /dev/null (a device: written in place, left a device)", 0, List.of("predict",
                "--model", onnx.toString(), "--vocab", vocab.toString(), "--input", in.toString(), "--output", "/dev/null")));
        Path types = Files.writeString(dir.resolve("types.jsonl"), "{\"input_ids\": [101, 2204, 102], \"token_type_ids\": [0, 2, 0]}\n");
        add(new Case("ids", "predict with token_type_ids 2 on a model with type_vocab_size 2", 2, List.of("predict", "--model",
                onnx.toString(), "--input", types.toString(), "--output", dir.resolve("p4.jsonl").toString())));
        Path mask = Files.writeString(dir.resolve("mask.jsonl"), "{\"input_ids\": [101, 2204, 102], \"attention_mask\": [0, 0, 0]}\n");
        add(new Case("ids", "predict with an attention_mask of all zeros", 2, List.of("predict", "--model", onnx.toString(),
                "--input", mask.toString(), "--output", dir.resolve("p5.jsonl").toString())));
        Path emptyTest = HostileFiles.glueCopy(glue, dir.resolve("glue-empty-test"));
        Files.writeString(emptyTest.resolve("SST-2/test.tsv"), "index\tsentence\n");
        add(new Case("data", "score --split test on a test file with only its header (was an empty submission)", 2, List.of("score",
                "--model", onnx.toString(), "--vocab", vocab.toString(), "--task", "sst-2", "--data-dir", emptyTest.toString(),
                "--split", "test", "--submission-dir", dir.resolve("sub3").toString())));
        Path otherDev = HostileFiles.glueCopy(glue, dir.resolve("glue-other-dev"));
        List<String> dev = new ArrayList<>(Files.readAllLines(otherDev.resolve("SST-2/dev.tsv")));
        for (int i = 1; i < dev.size(); i += 2) {
            String[] f = dev.get(i).split("\t");
            dev.set(i, f[0] + "\t" + (f[1].equals("0") ? "1" : "0"));
        }
        Files.write(otherDev.resolve("SST-2/dev.tsv"), dev);
        add(new Case("data", "score a dev file other than the training one (half its labels flipped): the gate says the data differs", 1,
                List.of("score", "--model", onnx.toString(), "--vocab", vocab.toString(), "--task", "sst-2", "--data-dir",
                        otherDev.toString(), "--split", "dev")));
        byte[] bin = Files.readAllBytes(testdata.resolve("interop/public-tiny/bin/pytorch_model.bin"));
        Path cut = Files.write(dir.resolve("cut-pytorch_model.bin"), java.util.Arrays.copyOf(bin, bin.length / 2));
        add(new Case("checkpoint", "convert a pytorch_model.bin cut in half (its zip directory is gone)", 2,
                List.of("convert", "--from", cut.toString(), "--output", dir.resolve("cut-model").toString())));
        Path dup = Files.write(dir.resolve("dup-pytorch_model.bin"), HostileFiles.duplicateEntries(bin));
        add(new Case("checkpoint", "convert a pytorch_model.bin with two zip entries of one name and different bytes", 2,
                List.of("convert", "--from", dup.toString(), "--output", dir.resolve("dup-model").toString())));
    }

    private static List<String> resume(List<String> args) {
        List<String> l = new ArrayList<>(args);
        l.add("--resume");
        return l;
    }

    private static List<String> finetune(Path glue, Path config, Path vocab, Path out) {
        return List.of("finetune", "--task", "sst-2", "--data-dir", glue.toString(), "--config", config.toString(), "--vocab",
                vocab.toString(), "--output", out.toString(), "--max-steps", "2", "--batch-size", "4", "--save-every", "1");
    }

    private List<String> encoderExport(Path dir) {
        Path enc = dir.resolve("encoder");
        run(new Case("", "", 0, List.of("convert", "--from", testdata.resolve("interop/public-tiny/tf").toString(),
                "--output", enc.toString())));
        return List.of("export", "--model", enc.toString(), "--output", dir.resolve("enc.onnx").toString());
    }

    private void write(List<Outcome> outcomes) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Reliability: what hostile-but-fair input gets\n\n")
                .append("Generated by `scripts/convbert reliability-cases --output docs/RELIABILITY.md` (the cases live in\n")
                .append("`benchmarks/.../ReliabilityCases.java`; `ReliabilityCasesTest` runs them in CI, so this table stays true).\n")
                .append("Exit codes: 0 ok, 1 failure of the environment or the run (names the path), 2 bad input (names the\n")
                .append("file, line or field), 4 a bug.\n\n")
                .append("| area | input | exit | expected | message |\n|---|---|---|---|---|\n");
        for (Outcome o : outcomes) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %d%s | %s |%n", o.c.area, o.c.input, o.exit, o.c.expected,
                    o.ok() ? "" : " **differs**", shorten(o.message)));
        }
        md.append("\nThe server's cases run as `ServerFaultsTest` (loopback only, bounded): 100 slow connections held 10 s")
                .append(" (health and a prediction answer within 3 s throughout, where a starved server would wait out the 5 s read time; every slow connection is cut), a fault in a")
                .append(" handler (JSON 500), an Error in the model (/health 503 \"failed\", requests refused at once), a failed")
                .append(" warm-up (port released), unknown paths such as /v1/predictXYZ (404).\n")
                .append("\nSignals need a process of their own and run as `InterruptedRunTest` (a real child JVM, tiny model):")
                .append(" SIGINT and SIGTERM mid-step exit 130 and 143 with a checkpoint of the interrupted step, no hs_err file,")
                .append(" and the resumed run ends bit-identical to an uninterrupted one; a second SIGINT exits 130 at once and")
                .append(" the last complete checkpoint resumes; a file-size limit below the checkpoint (EFBIG, as a full disk)")
                .append(" exits 1 naming the file and leaves no partial checkpoint directory. A kill -9 mid-run, with the next")
                .append(" checkpoint's directory left on disk but not named by the pointer (a death during its commit), resumes")
                .append(" from the pointer bit-identically (`ResumeAfterKillTest`).\n");
        AtomicFiles.writeString(output, md.toString());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode rows = json.createArrayNode();
        for (Outcome o : outcomes) {
            ObjectNode r = rows.addObject();
            r.put("area", o.c.area).put("input", o.c.input).put("exit", o.exit).put("expected", o.c.expected).put("message", shorten(o.message));
        }
        String name = output.getFileName().toString().replaceFirst("\\.md$", "");
        AtomicFiles.writeString(output.resolveSibling(name + ".json"), json.writeValueAsString(rows) + "\n");
    }

    /** Paths in the scratch directory differ in every run and name this machine: keep them relative to it. */
    private static String shorten(String message) {
        return message.replaceAll("/[^ :]*/(convbert-reliability|junit)[^/ ]*/", "").replaceAll("(/tmp|/work)[^ :]*/", "")
                .replaceAll("pid \\d+", "pid N").replaceAll("since \\d{4}-[0-9T:.\\-]+Z", "since T").replaceAll("\\.tmp-\\d+", ".tmp-PID");
    }
}
