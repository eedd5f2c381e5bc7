package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.exporter.onnx.SpanDynamicConvFunction;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.trainer.model.TaskModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer (DJL) against the exported model (ONNX Runtime) on a tiny model fine-tuned on the committed fixtures,
 * both padding modes: fp32 logits within 1e-4, fp16 argmax agreement, and {@code predict} on an .onnx file.
 */
@org.junit.jupiter.api.Timeout(300)   // it talks to sockets, threads or processes: never hang the build
class CrossEngineTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    @TempDir
    static Path dir;
    static Path tuned;
    static List<Encoding> dev;

    @BeforeAll
    static void fineTuneATinyModel() throws IOException {
        Path config = dir.resolve("tiny.json");
        ConvBertConfig.tiny().toBuilder().hiddenSize(48).intermediateSize(96).embeddingSize(24)
                .id2label(List.of("0", "1")).build().write(config);
        tuned = dir.resolve("tuned");
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(System.err)).execute(
                "finetune", "--task", "sst-2", "--data-dir", TESTDATA.resolve("glue").toString(), "--config", config.toString(),
                "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(), "--output", tuned.toString(),
                "--max-steps", "8", "--batch-size", "3", "--lr", "2e-3", "--layer-decay", "1.0");
        assertEquals(0, code);
        // a "dev set": every text of the committed GLUE fixtures, as single sentences and as pairs
        BertTokenizer tok = new BertTokenizer(Vocab.read(TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt")));
        dev = new ArrayList<>();
        for (GlueTask t : GlueTask.values()) {
            for (GlueTask.Split s : t.splits()) {
                for (GlueExample e : GlueReader.read(TESTDATA.resolve("glue"), t, s.name())) {
                    dev.add(tok.encode(e.textA(), e.textB(), 128));
                    dev.add(tok.encode(e.textA(), 128));
                }
            }
        }
    }

    @Test
    void trainerAndExportAgree() throws IOException {
        for (boolean invariant : new boolean[]{true, false}) {
            Path model = invariant ? tuned : hfSemanticsCopy();
            Path onnx = dir.resolve("m-" + invariant + ".onnx");
            new OnnxExporter(ModelDir.open(model), ExportOptions.defaults()).export(onnx);
            float[][] djl;
            try (TaskModel m = TaskModel.load(model, ai.djl.Device.cpu())) {
                djl = BatchRunner.logits(m, dev, 16, null);
            }
            float[][] ort;
            try (OrtModel o = OrtModel.open(onnx, ExecutionProvider.cpu())) {
                ort = BatchRunner.logits(o, dev, 16, null);
            }
            double max = 0;
            for (int i = 0; i < djl.length; i++) {
                for (int c = 0; c < djl[i].length; c++) {
                    max = Math.max(max, Math.abs(djl[i][c] - ort[i][c]));
                }
            }
            assertTrue(max <= 1e-4, "padding_invariant=" + invariant + ": DJL vs ORT max |Δlogit| " + max);
            System.out.printf("padding_invariant=%s: %d examples, DJL vs ORT max |Δlogit| %.2e%n", invariant, dev.size(), max);
        }
    }

    /** --head electra on STS-B: trained from the tiny model, exported, and the two engines agree on the 0–5 scores. */
    @Test
    void electraHeadTrainsAndExports() throws IOException {
        Path sts = dir.resolve("sts-electra");
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute(
                "finetune", "--task", "sts-b", "--data-dir", TESTDATA.resolve("glue").toString(), "--model", tuned.toString(),
                "--output", sts.toString(), "--max-steps", "4", "--batch-size", "3", "--lr", "2e-3", "--head", "electra");
        assertEquals(0, code, err.toString());
        ModelDir md = ModelDir.open(sts);
        assertEquals(ClassifierHead.ELECTRA, md.config().classifierHead());
        assertTrue(md.weights().tensors().containsKey("classifier.out_proj.weight"));
        assertTrue(md.weights().tensors().keySet().stream().noneMatch(n -> n.startsWith("classifier.dense")),
                "the original head has no dense layer");
        Path onnx = dir.resolve("sts-electra.onnx");
        new OnnxExporter(md, ExportOptions.defaults()).export(onnx);
        float[][] djl;
        float[][] ort;
        try (TaskModel m = TaskModel.load(sts, ai.djl.Device.cpu()); OrtModel o = OrtModel.open(onnx, ExecutionProvider.cpu())) {
            djl = BatchRunner.logits(m, dev, 16, null);
            ort = BatchRunner.logits(o, dev, 16, null);
        }
        double max = 0;
        double spread = 0;
        for (int i = 0; i < djl.length; i++) {
            max = Math.max(max, Math.abs(djl[i][0] - ort[i][0]));
            spread = Math.max(spread, Math.abs(djl[i][0] - djl[0][0]));
        }
        System.out.printf("electra head, STS-B: DJL vs ORT max |Δscore| %.2e over %d examples%n", max, djl.length);
        assertTrue(max <= 1e-4, "DJL vs ORT max |Δscore| " + max);
        assertTrue(spread > 0, "scores depend on the input");
    }

    @Test
    void fp16ArgmaxAgrees() throws IOException {
        Path fp32 = dir.resolve("fp32.onnx");
        Path fp16 = dir.resolve("fp16.onnx");
        new OnnxExporter(ModelDir.open(tuned), ExportOptions.defaults()).export(fp32);
        new OnnxExporter(ModelDir.open(tuned), ExportOptions.builder().precision(ExportOptions.Precision.FLOAT16).formulation(SpanDynamicConvFunction.Formulation.SHIFTED_SLICES).build()).export(fp16);
        assertTrue(Files.size(fp16) < Files.size(fp32) * 0.6, "fp16 weights halve the file");
        float[][] a;
        float[][] b;
        try (OrtModel o = OrtModel.open(fp32, ExecutionProvider.cpu()); OrtModel h = OrtModel.open(fp16, ExecutionProvider.cpu())) {
            a = BatchRunner.logits(o, dev, 16, null);
            b = BatchRunner.logits(h, dev, 16, null);
        }
        int agree = 0;
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            agree += RealDataBenchmark.argmax(a[i]) == RealDataBenchmark.argmax(b[i]) ? 1 : 0;
            for (int c = 0; c < a[i].length; c++) {
                max = Math.max(max, Math.abs(a[i][c] - b[i][c]));
            }
        }
        double rate = (double) agree / a.length;
        System.out.printf("fp16 vs fp32: argmax agreement %.4f over %d examples, max |Δlogit| %.2e%n", rate, a.length, max);
        assertTrue(rate >= 0.995, "fp16 argmax agreement " + rate);
        assertTrue(max < 0.05, "fp16 logits stay close: " + max);
    }

    /**
     * {@code benchmark --real-data}: each of the other exports is gated on its own and scored in sorted passes beside
     * the fused export; the contrib-operator export answers as the fused one does (same model, other kernels).
     */
    @Test
    void realDataBenchmarkScoresEveryGatedExport() throws IOException {
        Path out = dir.resolve("bench-real");
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute(
                "benchmark", "--model", tuned.toString(), "--task", "sst-2", "--data-dir", TESTDATA.resolve("glue").toString(),
                "--output", out.toString(), "--no-grid", "--backends", "ort-fused,ort-contrib,ort-contrib-int8",
                "--real-data", "sst-2", "--real-data-rounds", "1", "--tolerance", "1");
        assertEquals(0, code, err.toString());
        JsonNode result = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertTrue(result.get("accuracy_gate_contrib").get("passed").asBoolean());
        assertTrue(result.get("accuracy_gate_contrib_int8").get("passed").asBoolean());
        JsonNode sst2 = result.get("real_data").get("tasks").get(0);
        List<String> modes = new ArrayList<>(List.of("dataset-order", "sorted", "token-budget", "sorted-contrib", "sorted-contrib-int8"));
        if (OrtModel.threads() > 1) {                                // two passes at once on the CPU's halves
            modes.addAll(List.of("sorted-2-workers", "sorted-contrib-int8-2-workers"));
            assertTrue(sst2.get("sorted-2-workers").get("max_abs_logit_diff_vs_baseline").asDouble() <= 1e-4,
                    sst2.get("sorted-2-workers").toString());
        }
        assertEquals(modes, new ObjectMapper().convertValue(result.get("real_data").get("modes"), List.class));
        assertTrue(sst2.get("sorted-contrib").get("max_abs_logit_diff_vs_baseline").asDouble() <= 1e-4,
                sst2.get("sorted-contrib").toString());
        assertTrue(sst2.get("sorted-contrib-int8").get("examples_per_s").asDouble() > 0);
        assertTrue(Files.readString(out.resolve("summary.md")).contains("sorted-contrib-int8"));
    }

    @Test
    void predictRunsAnOnnxFileLikeAModelDir() throws IOException {
        Path onnx = dir.resolve("predict.onnx");
        new OnnxExporter(ModelDir.open(tuned), ExportOptions.builder().hiddenStates(true).formulation(SpanDynamicConvFunction.Formulation.SHIFTED_SLICES).build()).export(onnx);
        Path in = dir.resolve("in.jsonl");
        Files.write(in, List.of("{\"text_a\": \"a gorgeous, witty film\"}", "{\"text_a\": \"dull\", \"text_b\": \"and long\"}"));
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> viaDir = predict(tuned, in, dir.resolve("dir.jsonl"), json);
        List<JsonNode> viaOnnx = predict(onnx, in, dir.resolve("onnx.jsonl"), json);
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < 2; c++) {
                assertEquals(viaDir.get(i).get("logits").get(c).asDouble(), viaOnnx.get(i).get("logits").get(c).asDouble(), 1e-4);
            }
            assertEquals(viaDir.get(i).get("last_hidden_state").size(), viaOnnx.get(i).get("last_hidden_state").size());
        }
    }

    private static List<JsonNode> predict(Path model, Path in, Path out, ObjectMapper json) throws IOException {
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute(
                "predict", "--model", model.toString(), "--input", in.toString(), "--output", out.toString(), "--hidden-states");
        assertEquals(0, code, err.toString());
        List<JsonNode> rows = new ArrayList<>();
        for (String l : Files.readAllLines(out)) {
            rows.add(json.readTree(l));
        }
        return rows;
    }

    /**
     * Two exports in one folder, trained with different vocabularies, each keep their own (NAME.vocab.txt): the second
     * no longer overwrites the first one's, and a folder-wide vocab.txt of the earlier layout is read only when it is
     * the vocabulary the model records.
     */
    @Test
    void twoExportsInOneFolderEachKeepTheirVocabulary() throws IOException {
        ModelDir a = ModelDir.open(tuned);
        List<String> swapped = new ArrayList<>(Files.readAllLines(a.vocabFile()));
        java.util.Collections.swap(swapped, swapped.indexOf("good"), swapped.indexOf("bad"));
        Path otherVocab = Files.write(dir.resolve("other-vocab.txt"), swapped);
        Path other = dir.resolve("other-vocab-model");
        ModelDir.write(other, a.config(), a.weights().tensors().values(), otherVocab, java.util.Map.of("format", "pt"));

        Path folder = Files.createDirectories(dir.resolve("exports"));
        new OnnxExporter(a, ExportOptions.defaults()).export(folder.resolve("a.onnx"));
        new OnnxExporter(ModelDir.open(other), ExportOptions.defaults()).export(folder.resolve("b.onnx"));
        assertEquals(Files.readString(a.vocabFile()), Files.readString(folder.resolve("a.vocab.txt")));
        assertEquals(Files.readString(otherVocab), Files.readString(folder.resolve("b.vocab.txt")));
        for (String n : List.of("a", "b")) {
            try (OrtModel m = OrtModel.open(folder.resolve(n + ".onnx"), ExecutionProvider.cpu())) {
                assertEquals(folder.resolve(n + ".vocab.txt"), m.vocab().orElseThrow());
            }
            JsonNode card = new ObjectMapper().readTree(folder.resolve(n + ".card.json").toFile());
            assertEquals(Hashing.sha256(folder.resolve(n + ".vocab.txt")), card.get("vocab_sha256").asText());
        }

        // the earlier layout: one vocab.txt per folder, here the other model's
        Path legacy = Files.createDirectories(dir.resolve("legacy"));
        Files.copy(folder.resolve("a.onnx"), legacy.resolve("a.onnx"));
        Files.copy(otherVocab, legacy.resolve("vocab.txt"));
        try (OrtModel m = OrtModel.open(legacy.resolve("a.onnx"), ExecutionProvider.cpu())) {
            assertTrue(m.vocab().isEmpty(), "another model's vocab.txt is not this model's");
        }
        Path in = Files.writeString(dir.resolve("texts.jsonl"), "{\"text_a\": \"a good film\"}\n");
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute("predict",
                "--model", legacy.resolve("a.onnx").toString(), "--input", in.toString(), "--output", dir.resolve("p.jsonl").toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("takes token ids only; pass --vocab FILE"), err.toString());
        Files.copy(a.vocabFile(), legacy.resolve("vocab.txt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (OrtModel m = OrtModel.open(legacy.resolve("a.onnx"), ExecutionProvider.cpu())) {
            assertEquals(legacy.resolve("vocab.txt"), m.vocab().orElseThrow(), "the recorded vocabulary is read");
        }
    }

    private static Path hfSemanticsCopy() throws IOException {
        Path copy = dir.resolve("hf-semantics");
        Files.createDirectories(copy);
        ModelDir md = ModelDir.open(tuned);
        Files.copy(md.weightsFile(), copy.resolve(ModelDir.WEIGHTS), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        md.config().withPaddingInvariant(false).write(copy.resolve(ModelDir.CONFIG));
        return copy;
    }
}
