package dev.convbert.trainer.optim;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The optimiser pieces against updates computed by hand. */
class OptimTest {

    private static Parameter param(NDManager m, String name, float... values) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.OTHER).build();
        p.setArray(m.create(values));
        return p;
    }

    @Test
    void adamWUpdatesAsTheOriginalOptimiser() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter w = param(m, "encoder.layer.0.attention.self.query.weight", 1f, -2f);
            Parameter b = param(m, "encoder.layer.0.attention.self.query.bias", 0.5f, 0.5f);
            List<ParamGroup> groups = List.of(new ParamGroup("w", w, true, 0.5), new ParamGroup("b", b, false, 1.0));
            AdamW opt = AdamW.original(0.01);
            double lr = 0.1;
            float[] g1 = {0.2f, -0.4f};
            opt.step(groups, List.of(m.create(g1), m.create(g1)), lr);
            // by hand: m = 0.1 g, v = 0.001 g², no bias correction: update = m/(sqrt(v)+1e-6) + wd·θ (weights only)
            float[] expectW = new float[2];
            float[] expectB = new float[2];
            float[] w0 = {1f, -2f};
            float[] b0 = {0.5f, 0.5f};
            for (int i = 0; i < 2; i++) {
                double mi = 0.1 * g1[i];
                double vi = 0.001 * g1[i] * g1[i];
                double u = mi / (Math.sqrt(vi) + 1e-6);
                expectW[i] = (float) (w0[i] - lr * 0.5 * (u + 0.01 * w0[i]));
                expectB[i] = (float) (b0[i] - lr * 1.0 * u);
            }
            assertArrayEquals(expectW, w.getArray().toFloatArray(), 1e-6f);
            assertArrayEquals(expectB, b.getArray().toFloatArray(), 1e-6f);
            assertEquals(2, opt.state().size() / 2);
        }
    }

    @Test
    void decayAndLayerRules() {
        assertFalse(ParamGroup.decays("convbert.encoder.layer.3.output.LayerNorm.weight"));
        assertFalse(ParamGroup.decays("classifier.dense.bias"));
        assertTrue(ParamGroup.decays("convbert.encoder.layer.3.output.dense.weight"));
        // 12 layers, decay 0.8: head x1, top layer 0.8^2, layer 0 0.8^13, embeddings 0.8^14
        assertEquals(1.0, ParamGroup.layerScale("classifier.out_proj.weight", 12, 0.8), 1e-12);
        assertEquals(0.64, ParamGroup.layerScale("convbert.encoder.layer.11.attention.self.query.weight", 12, 0.8), 1e-12);
        assertEquals(Math.pow(0.8, 13), ParamGroup.layerScale("convbert.encoder.layer.0.output.dense.bias", 12, 0.8), 1e-12);
        assertEquals(Math.pow(0.8, 14), ParamGroup.layerScale("convbert.embeddings_project.weight", 12, 0.8), 1e-12);
        assertEquals(Math.pow(0.8, 14), ParamGroup.layerScale("convbert.embeddings.word_embeddings.weight", 12, 0.8), 1e-12);
    }

    @Test
    void scheduleWarmsUpThenDecaysLinearly() {
        LrSchedule s = new LrSchedule(1e-3, 10, 100);
        assertEquals(1e-4, s.lr(0), 1e-12);          // t = 1: 1e-3 · (1 - 0/100) · 1/10
        assertEquals(1e-3 * 0.91, s.lr(9), 1e-12);    // t = 10: warm-up done, 9 % decayed
        assertEquals(1e-3 * 0.01, s.lr(99), 1e-12);   // last step
    }

    @Test
    void globalNormClippingScalesAllGradientsTogether() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[]{3f, 0f});
            NDArray b = m.create(new float[]{0f, 4f});
            double norm = GradientClipping.globalNorm(List.of(a, b), 1.0);
            assertEquals(5.0, norm, 1e-6);
            assertArrayEquals(new float[]{0.6f, 0f}, a.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[]{0f, 0.8f}, b.toFloatArray(), 1e-6f);
            NDArray c = m.create(new float[]{0.3f, 0.4f});
            assertEquals(0.5, GradientClipping.globalNorm(List.of(c), 1.0), 1e-6);
            assertArrayEquals(new float[]{0.3f, 0.4f}, c.toFloatArray(), 0f);   // under the limit: untouched
        }
    }

    @Test
    void zeroingAGradientClearsNaN() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[]{1f, 2f});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(x.mul(Float.NaN).sum());
            }
            NDArray g = x.getGradient();
            assertTrue(Float.isNaN(g.toFloatArray()[0]));
            g.set(new NDIndex("..."), 0f);
            assertArrayEquals(new float[]{0f, 0f}, x.getGradient().toFloatArray(), 0f);
            assertEquals(new Shape(2), g.getShape());
        }
    }
}
