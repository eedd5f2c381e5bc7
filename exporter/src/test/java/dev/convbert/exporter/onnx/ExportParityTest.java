package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.reference.ReferenceData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exported graph in ONNX Runtime (CPU, all optimisations) against the independent reference implementation's
 * logits and hidden states, fused and inline, both window formulations.
 */
class ExportParityTest {
    static final Path REF = Path.of(System.getProperty("convbert.testdata", "../testdata"), "reference");

    @ParameterizedTest(name = "{0} inline={1} {2}")
    @CsvSource({"public-tiny,false,SHIFTED_SLICES", "public-tiny,true,SHIFTED_SLICES", "public-tiny,false,GATHER_UNFOLD",
            "public-grouped,false,SHIFTED_SLICES", "public-grouped,true,SHIFTED_SLICES", "public-grouped,true,GATHER_UNFOLD",
            "public-tiny,false,BANDED_MATMUL", "public-grouped,false,BANDED_MATMUL"})
    void matchesReference(String set, boolean inline, SpanDynamicConvFunction.Formulation f, @TempDir Path dir) throws Exception {
        Path onnx = dir.resolve("model.onnx");
        new OnnxExporter(ModelDir.open(REF.resolve(set)), ExportOptions.builder().inline(inline).hiddenStates(true).formulation(f).build()).export(onnx);
        ReferenceData ref = ReferenceData.read(REF.resolve(set));
        long[][] ids = ref.inputIds();
        long[][] mask = ref.attentionMask();
        long[][] types = ref.tokenTypeIds();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession s = env.createSession(onnx.toString(), so);
                 OnnxTensor a = OnnxTensor.createTensor(env, ids);
                 OnnxTensor b = OnnxTensor.createTensor(env, mask);
                 OnnxTensor c = OnnxTensor.createTensor(env, types);
                 OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
                float[][] logits = (float[][]) r.get("logits").orElseThrow().getValue();
                float[][][] hidden = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
                double[] want = ReferenceData.readF64(REF.resolve(set).resolve("logits.f64.bin"));
                double[] wantH = ReferenceData.readF64(REF.resolve(set).resolve("last_hidden_state.f64.bin"));
                int labels = logits[0].length;
                double max = 0, maxH = 0;
                for (int i = 0; i < logits.length; i++) {
                    for (int j = 0; j < labels; j++) {
                        max = Math.max(max, Math.abs(logits[i][j] - want[i * labels + j]));
                    }
                    int len = hidden[i].length, h = hidden[i][0].length;
                    for (int l = 0; l < len; l++) {
                        for (int d = 0; d < h; d++) {
                            if (mask[i][l] == 1) {
                                maxH = Math.max(maxH, Math.abs(hidden[i][l][d] - wantH[(i * len + l) * h + d]));
                            }
                        }
                    }
                }
                assertTrue(max <= 1e-4, set + " logits max |Δ| " + max);
                assertTrue(maxH <= 1e-4, set + " last_hidden_state max |Δ| " + maxH);
                System.out.printf("%s inline=%s %s: logits max |Δ| %.2e, hidden %.2e%n", set, inline, f, max, maxH);
            }
        }
    }

    /** Without last_hidden_state the last layer's dense part runs on the first token only: logits must not change. */
    @ParameterizedTest
    @CsvSource({"public-tiny", "public-grouped"})
    void firstTokenOnlyLastLayerKeepsTheLogits(String set, @TempDir Path dir) throws Exception {
        Path onnx = dir.resolve("model.onnx");
        new OnnxExporter(ModelDir.open(REF.resolve(set)), ExportOptions.defaults()).export(onnx);
        float[][] logits = run(onnx, REF.resolve(set));
        double[] want = ReferenceData.readF64(REF.resolve(set).resolve("logits.f64.bin"));
        double max = maxDiff(logits, want);
        assertTrue(max <= 1e-4, set + " logits max |Δ| " + max);
    }

    /**
     * The benchmark's stand-in for the standard export: the same logits as the reference, with the work a per-module
     * tracer leaves in (four projections per layer, a last layer over every token).
     */
    @ParameterizedTest
    @CsvSource({"public-tiny", "public-grouped"})
    void unfusedLayoutMatchesTheReferenceWithMoreProducts(String set, @TempDir Path dir) throws Exception {
        Path unfused = dir.resolve("unfused.onnx");
        Path fused = dir.resolve("fused.onnx");
        ModelDir md = ModelDir.open(REF.resolve(set));
        var standard = new OnnxExporter(md, ExportOptions.standardLayout()).export(unfused);
        var ours = new OnnxExporter(md, ExportOptions.builder().inline(true).formulation(SpanDynamicConvFunction.Formulation.GATHER_UNFOLD).build()).export(fused);
        float[][] logits = run(unfused, REF.resolve(set));
        double[] want = ReferenceData.readF64(REF.resolve(set).resolve("logits.f64.bin"));
        double max = maxDiff(logits, want);
        assertTrue(max <= 1e-4, set + " logits max |Δ| " + max);
        int layers = md.config().numHiddenLayers();
        assertEquals(matMuls(ours) + 3 * layers, matMuls(standard), "three more projections per layer");
    }

    /** ONNX Runtime's contrib operators in place of the standard ones: the same logits, fewer nodes. */
    @ParameterizedTest
    @CsvSource({"public-tiny", "public-grouped"})
    void ortOperatorsMatchTheReference(String set, @TempDir Path dir) throws Exception {
        Path fused = dir.resolve("ort-fused.onnx");
        ModelDir md = ModelDir.open(REF.resolve(set));
        var contrib = new OnnxExporter(md, ExportOptions.builder().ortOperators(true).build()).export(fused);
        var standard = new OnnxExporter(md, ExportOptions.defaults()).export(dir.resolve("standard.onnx"));
        float[][] logits = run(fused, REF.resolve(set));
        double[] want = ReferenceData.readF64(REF.resolve(set).resolve("logits.f64.bin"));
        double max = maxDiff(logits, want);
        System.out.printf("%s ort-operators: logits max |Δ| %.2e%n", set, max);
        assertTrue(max <= 1e-4, set + " logits max |Δ| " + max);
        int layers = md.config().numHiddenLayers();
        assertEquals(layers, contribNodes(contrib, "MultiHeadAttention"));
        assertEquals(2 * layers, contribNodes(contrib, "SkipLayerNormalization"));
        assertEquals(1, contribNodes(contrib, "EmbedLayerNormalization"));
        assertTrue(contrib.getGraph().getNodeCount() < standard.getGraph().getNodeCount());
    }

    private static long contribNodes(OnnxMl.ModelProto model, String op) {
        return model.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals(op) && n.getDomain().equals("com.microsoft")).count();
    }

    /** max |logits − want| over every row and class; {@code want} is row-major. */
    private static double maxDiff(float[][] logits, double[] want) {
        double max = 0;
        for (int i = 0; i < logits.length; i++) {
            for (int j = 0; j < logits[i].length; j++) {
                max = Math.max(max, Math.abs(logits[i][j] - want[i * logits[i].length + j]));
            }
        }
        return max;
    }

    private static long matMuls(ai.onnx.proto.OnnxMl.ModelProto model) {
        return model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("MatMul")).count();
    }

    /**
     * int8 changes the numbers, so it is held to the float32 reference within what 8-bit products allow, and its
     * encoder denses must all be integer products (no float MatMul left for them).
     */
    @ParameterizedTest
    @CsvSource({"public-tiny", "public-grouped"})
    void int8StaysCloseToTheReference(String set, @TempDir Path dir) throws Exception {
        Path onnx = dir.resolve("model.onnx");
        ModelDir md = ModelDir.open(REF.resolve(set));
        OnnxMl.ModelProto m = new OnnxExporter(md, ExportOptions.defaults().withPrecision(ExportOptions.Precision.INT8)).export(onnx);
        int layers = md.config().numHiddenLayers(), groups = md.config().numGroups();
        long integerProducts = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("MatMulInteger")).count();
        assertEquals(layers * (2 + 2L * groups), integerProducts, "projection, attention output and feed-forward per layer");
        assertTrue(m.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals("convbert.precision") && p.getValue().equals("int8")));
        assertInt8Close(onnx, set, "int8");
    }

    /** The export's logits within 5 % of the largest reference logit (plus 1e-3) of the float32 reference: 8-bit room. */
    static void assertInt8Close(Path onnx, String set, String what) throws Exception {
        float[][] logits = run(onnx, REF.resolve(set));
        double[] want = ReferenceData.readF64(REF.resolve(set).resolve("logits.f64.bin"));
        double max = 0, scale = 0;
        for (int i = 0; i < logits.length; i++) {
            for (int j = 0; j < logits[i].length; j++) {
                max = Math.max(max, Math.abs(logits[i][j] - want[i * logits[i].length + j]));
                scale = Math.max(scale, Math.abs(want[i * logits[i].length + j]));
            }
        }
        System.out.printf("%s %s: logits max |Δ| %.2e (max |logit| %.2e)%n", set, what, max, scale);
        assertTrue(max <= 0.05 * scale + 1e-3, set + " " + what + " logits max |Δ| " + max + " for logits up to " + scale);
    }

    static float[][] run(Path onnx, Path set) throws Exception {
        ReferenceData in = ReferenceData.read(set);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession s = env.createSession(onnx.toString(), so);
                 OnnxTensor a = OnnxTensor.createTensor(env, in.inputIds());
                 OnnxTensor b = OnnxTensor.createTensor(env, in.attentionMask());
                 OnnxTensor c = OnnxTensor.createTensor(env, in.tokenTypeIds());
                 OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
                return (float[][]) r.get("logits").orElseThrow().getValue();
            }
        }
    }

    @Test
    void oneFusedNodePerLayerAndAStandardBody(@TempDir Path dir) throws IOException {
        for (String set : new String[]{"public-tiny", "public-grouped"}) {
            ModelDir md = ModelDir.open(REF.resolve(set));
            OnnxMl.ModelProto m = new OnnxExporter(md, ExportOptions.defaults()).export(dir.resolve(set + ".onnx"));
            long fused = m.getGraph().getNodeList().stream()
                    .filter(n -> n.getOpType().equals("SpanDynamicConv") && n.getDomain().equals("dev.convbert")).count();
            assertEquals(md.config().numHiddenLayers(), fused);
            assertEquals(1, m.getFunctionsCount());
            OnnxMl.FunctionProto fn = m.getFunctions(0);
            Set<String> standard = Set.of("Add", "Mul", "MatMul", "Transpose", "Conv", "Reshape", "Softmax", "Pad", "Shape",
                    "Slice", "Constant", "Identity", "Cast", "Gather", "Range", "Unsqueeze", "ReduceSum", "Concat");
            for (OnnxMl.NodeProto n : fn.getNodeList()) {
                assertTrue(n.getDomain().isEmpty(), "function body node " + n.getName() + " is in domain " + n.getDomain());
                assertTrue(standard.contains(n.getOpType()), n.getOpType());
            }
            assertEquals(8, m.getIrVersion());
            assertTrue(m.getOpsetImportList().stream().anyMatch(o -> o.getDomain().isEmpty() && o.getVersion() == 17));
            var inputs = m.getGraph().getInputList();
            assertEquals("batch", inputs.get(0).getType().getTensorType().getShape().getDim(0).getDimParam());
            assertEquals("sequence", inputs.get(0).getType().getTensorType().getShape().getDim(1).getDimParam());
            assertTrue(Files.exists(dir.resolve(set + ".card.json")));
            assertTrue(m.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals("convbert.config")));
            OnnxMl.ModelProto inline = new OnnxExporter(md, ExportOptions.builder().inline(true).formulation(SpanDynamicConvFunction.Formulation.SHIFTED_SLICES).build()).build();
            assertEquals(0, inline.getFunctionsCount());
            assertTrue(inline.getGraph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("SpanDynamicConv")));
        }
    }

    @Test
    void brokenModelDirsAreRejected(@TempDir Path dir) throws IOException {
        ModelDir md = ModelDir.open(REF.resolve("public-tiny"));
        var tensors = new java.util.LinkedHashMap<>(md.weights().tensors());
        tensors.remove("classifier.out_proj.bias");
        var q = "convbert.encoder.layer.0.attention.self.query.weight";
        float[] nan = tensors.get(q).toFloats();
        nan[3] = Float.NaN;
        tensors.put(q, dev.convbert.core.safetensors.SafeTensor.ofFloats(q, tensors.get(q).shape(), nan));
        ModelDir.write(dir, md.config(), tensors.values(), null, Map.of());
        var ex = org.junit.jupiter.api.Assertions.assertThrows(ExportException.class,
                () -> new OnnxExporter(ModelDir.open(dir), ExportOptions.defaults()));
        assertTrue(ex.getMessage().contains("missing classifier.out_proj.bias [3]"), ex.getMessage());
        assertTrue(ex.getMessage().contains(q + " holds NaN"), ex.getMessage());
        assertTrue(ex.getMessage().contains("needs a fine-tuned task model"), ex.getMessage());
    }


}
