package dev.convbert.exporter.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.convbert.core.checkpoint.Checkpoint;
import dev.convbert.core.checkpoint.CheckpointConverter;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.reference.ReferenceData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An encoder without a head (here: the original release's TF checkpoint layout, converted) exports with
 * --hidden-states to a graph whose one output, last_hidden_state, matches the independent reference in ONNX Runtime.
 */
class EncoderExportTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));

    @ParameterizedTest
    @CsvSource({"public-tiny/tf, public-tiny", "public-grouped/tf, public-grouped"})
    void convertedTfEncoderMatchesTheReference(String fixture, String set, @TempDir Path dir) throws Exception {
        ModelDir md = convert(fixture, dir);
        Path onnx = dir.resolve("encoder.onnx");
        new OnnxExporter(md, ExportOptions.builder().hiddenStates(true).build()).export(onnx);
        ReferenceData in = ReferenceData.read(TESTDATA.resolve("reference").resolve(set));
        long[][] ids = in.inputIds();
        long[][] mask = in.attentionMask();
        long[][] types = in.tokenTypeIds();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(onnx.toString(), so);
             OnnxTensor a = OnnxTensor.createTensor(env, ids);
             OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            assertEquals(Set.of("last_hidden_state"), s.getOutputNames());
            float[][][] hidden = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
            double[] want = ReferenceData.readF64(TESTDATA.resolve("reference").resolve(set).resolve("last_hidden_state.f64.bin"));
            double max = 0;
            for (int i = 0; i < hidden.length; i++) {
                int len = hidden[i].length, h = hidden[i][0].length;
                for (int l = 0; l < len; l++) {
                    for (int d = 0; d < h && mask[i][l] == 1; d++) {
                        max = Math.max(max, Math.abs(hidden[i][l][d] - want[(i * len + l) * h + d]));
                    }
                }
            }
            assertTrue(max <= 1e-4, set + " last_hidden_state max |Δ| " + max);
            System.out.printf("%s converted from TF, ONNX Runtime: last_hidden_state max |Δ| %.2e%n", set, max);
        }
    }

    @Test
    void anEncoderWithoutHiddenStatesIsRefused(@TempDir Path dir) throws Exception {
        ModelDir md = convert("public-tiny/tf", dir);
        var e = assertThrows(ExportException.class, () -> new OnnxExporter(md, ExportOptions.builder().build()));
        assertTrue(e.getMessage().contains("--hidden-states"), e.getMessage());
    }

    private static ModelDir convert(String fixture, Path dir) throws Exception {
        var result = CheckpointConverter.convert(Checkpoint.read(TESTDATA.resolve("interop").resolve(fixture)), null, null);
        return ModelDir.write(dir.resolve("model"), result.config(), result.tensors(), null, Map.of());
    }
}
