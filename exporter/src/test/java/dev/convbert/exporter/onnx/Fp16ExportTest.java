package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.reference.ReferenceData;
import dev.convbert.core.safetensors.HalfFloats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Half precision: the fp16 export runs the reference inputs (padded batches) to finite logits close to float32's, and
 * no constant in any export overflows half precision (an engine that builds fp16 kernels from the float32 graph —
 * TensorRT with trt_fp16_enable — would turn it into infinity, and the attention mask into NaN).
 */
class Fp16ExportTest {
    static final Path REF = ExportParityTest.REF;

    @ParameterizedTest
    @ValueSource(strings = {"public-tiny", "public-grouped"})
    void fp16LogitsAreFiniteAndCloseToFloat32OnPaddedBatches(String set, @TempDir Path dir) throws Exception {
        ModelDir md = ModelDir.open(REF.resolve(set));
        Path fp32 = dir.resolve("fp32.onnx");
        Path fp16 = dir.resolve("fp16.onnx");
        new OnnxExporter(md, ExportOptions.defaults()).export(fp32);
        new OnnxExporter(md, ExportOptions.defaults().withPrecision(ExportOptions.Precision.FLOAT16)).export(fp16);
        float[][] a = logits(fp32, set);
        float[][] b = logits(fp16, set);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                assertTrue(Float.isFinite(b[i][j]), set + " fp16 logit " + b[i][j]);
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        assertTrue(max <= 0.05, set + " fp16 vs fp32 logits max |Δ| " + max);
        System.out.printf("%s: fp16 vs fp32 logits max |Δ| %.2e on padded batches%n", set, max);
    }

    @Test
    void noConstantOverflowsHalfPrecision(@TempDir Path dir) throws Exception {
        ModelDir md = ModelDir.open(REF.resolve("public-tiny"));
        for (ExportOptions.Precision p : ExportOptions.Precision.values()) {
            Path onnx = dir.resolve(p + ".onnx");
            new OnnxExporter(md, ExportOptions.defaults().withPrecision(p)).export(onnx);
            OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx));
            List<OnnxMl.NodeProto> nodes = new ArrayList<>(m.getGraph().getNodeList());
            m.getFunctionsList().forEach(f -> nodes.addAll(f.getNodeList()));
            int checked = 0;
            for (OnnxMl.NodeProto n : nodes) {
                for (OnnxMl.AttributeProto attr : n.getAttributeList()) {
                    if (n.getOpType().equals("Constant") && attr.hasT() && attr.getT().getDataType() == OnnxMl.TensorProto.DataType.FLOAT.getNumber()) {
                        ByteBuffer raw = attr.getT().getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                        while (raw.remaining() >= 4) {
                            float v = raw.getFloat();
                            assertTrue(Float.isFinite(HalfFloats.halfToFloat(HalfFloats.floatToHalf(v))),
                                    p + ": constant " + v + " in " + n.getName() + " overflows half precision");
                            checked++;
                        }
                    }
                }
            }
            assertTrue(checked > 0, p + ": no float constants found to check");
        }
        assertEquals(-10_000f, OnnxExporter.MASKED_SCORE);
    }

    private static float[][] logits(Path onnx, String set) throws Exception {
        ReferenceData in = ReferenceData.read(REF.resolve(set));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(onnx.toString(), so);
             OnnxTensor a = OnnxTensor.createTensor(env, in.inputIds());
             OnnxTensor b = OnnxTensor.createTensor(env, in.attentionMask());
             OnnxTensor c = OnnxTensor.createTensor(env, in.tokenTypeIds());
             OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            return (float[][]) r.get("logits").orElseThrow().getValue();
        }
    }
}
