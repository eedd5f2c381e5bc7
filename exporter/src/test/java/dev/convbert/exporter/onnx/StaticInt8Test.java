package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.reference.ReferenceData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Static int8: ranges measured on rows run through the float32 graph, then every encoder product quantises its input
 * at that fixed range (QuantizeLinear, no DynamicQuantizeLinear) and the logits stay within what 8-bit products allow
 * of the independent reference — grouped feed-forwards included, each group at its layer's range.
 */
class StaticInt8Test {
    @ParameterizedTest
    @CsvSource({"public-tiny", "public-grouped"})
    void calibratedProductsStayCloseToTheReference(String set, @TempDir Path dir) throws Exception {
        Path ref = ExportParityTest.REF.resolve(set);
        ModelDir md = ModelDir.open(ref);
        ReferenceData in = ReferenceData.read(ref);
        ExportOptions int8 = ExportOptions.defaults().withPrecision(ExportOptions.Precision.INT8);
        Int8Calibration cal = Calibrator.calibrate(md, int8,
                List.of(new PaddedBatch(in.inputIds(), in.tokenTypeIds(), in.attentionMask())), "the reference rows");
        int layers = md.config().numHiddenLayers();
        assertEquals(4 * layers, cal.ranges().size(), "QKV+conv, attention output, intermediate, output: keys " + cal.ranges().keySet());
        cal.ranges().values().forEach(r -> assertTrue(r[0] <= r[1] && Float.isFinite(r[0]) && Float.isFinite(r[1])));

        Path onnx = dir.resolve("static.onnx");
        OnnxMl.ModelProto m = new OnnxExporter(md, int8.toBuilder().calibration(cal).build()).export(onnx);
        List<String> ops = m.getGraph().getNodeList().stream().map(OnnxMl.NodeProto::getOpType).toList();
        long products = ops.stream().filter("MatMulInteger"::equals).count();
        assertEquals(layers * (2 + 2L * md.config().numGroups()), products);
        assertEquals(products, ops.stream().filter("QuantizeLinear"::equals).count());
        assertTrue(ops.stream().noneMatch("DynamicQuantizeLinear"::equals), "static int8 still quantises per run");
        assertTrue(m.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals("convbert.int8_activations")
                && p.getValue().equals("static, calibrated on the reference rows")));

        ExportParityTest.assertInt8Close(onnx, set, "static int8");
    }

    @ParameterizedTest
    @CsvSource({"public-tiny"})
    void aCalibrationOfAnotherModelIsRefusedNamingTheProduct(String set) {
        ModelDir md = ModelDir.open(ExportParityTest.REF.resolve(set));
        Map<String, float[]> partial = new HashMap<>();
        partial.put("convbert.encoder.layer.0.attention.output.dense", new float[]{-1, 1});
        ExportOptions options = ExportOptions.defaults().toBuilder().precision(ExportOptions.Precision.INT8)
                .calibration(new Int8Calibration(partial, "another model")).build();
        var e = assertThrows(ExportException.class, () -> new OnnxExporter(md, options).build());
        assertTrue(e.getMessage().contains("no range for convbert.encoder.layer.0.attention.self.query")
                && e.getMessage().contains("another model"), e.getMessage());
    }
}
