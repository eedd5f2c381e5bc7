package dev.convbert.core.metrics;

import dev.convbert.core.glue.GlueTask;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Values computed by hand (confusion matrix tp=2 fp=1 fn=1 tn=2; Pearson/Spearman worked out on paper). */
class MetricsTest {
    static final int[] P = {1, 1, 0, 0, 1, 0};
    static final int[] G = {1, 0, 0, 1, 1, 0};

    @Test
    void confusionMatrixMetrics() {
        assertEquals(4.0 / 6, Metrics.accuracy(P, G), 1e-12);
        assertEquals(4.0 / 6, Metrics.f1(P, G), 1e-12);          // 2tp / (2tp + fp + fn) = 4/6
        assertEquals(1.0 / 3, Metrics.matthews(P, G), 1e-12);     // (2*2 - 1*1) / sqrt(3^4) = 3/9
    }

    @Test
    void degenerateCasesFollowSklearn() {
        assertEquals(0.0, Metrics.matthews(new int[]{0, 0, 0}, new int[]{0, 1, 1}));
        assertEquals(0.0, Metrics.f1(new int[]{0, 0}, new int[]{1, 1}));
        assertEquals(-1.0, Metrics.matthews(new int[]{1, 0}, new int[]{0, 1}), 1e-12);
    }

    @Test
    void correlations() {
        double[] x = {1, 2, 3, 4, 5};
        double[] y = {2, 4, 5, 4, 5};
        assertEquals(6 / Math.sqrt(60), Metrics.pearson(x, y), 1e-12);
        assertArrayEquals(new double[]{1, 2.5, 4.5, 2.5, 4.5}, Metrics.ranks(y), 0);
        assertEquals(7 / Math.sqrt(90), Metrics.spearman(x, y), 1e-12);   // 0.7378647873726218, as scipy
        assertEquals(-1.0, Metrics.spearman(x, new double[]{9, 7, 5, 3, 1}), 1e-12);
    }

    @Test
    void glueScoresCombineAsGlueReports() {
        double[] p = {1, 1, 0, 0, 1, 0};
        double[] g = {1, 0, 0, 1, 1, 0};
        GlueScore mrpc = GlueScore.of(GlueTask.MRPC, "dev", p, g);
        assertEquals("acc_and_f1", mrpc.mainMetric());
        assertEquals((4.0 / 6 + 4.0 / 6) / 2, mrpc.main(), 1e-12);
        assertEquals(1.0 / 3, GlueScore.of(GlueTask.COLA, "dev", p, g).main(), 1e-12);
        assertEquals(4.0 / 6, GlueScore.of(GlueTask.SST_2, "dev", p, g).main(), 1e-12);
        GlueScore sts = GlueScore.of(GlueTask.STS_B, "dev", new double[]{1, 2, 3, 4, 5}, new double[]{2, 4, 5, 4, 5});
        assertEquals((6 / Math.sqrt(60) + 7 / Math.sqrt(90)) / 2, sts.main(), 1e-12);
        assertEquals(6 / Math.sqrt(60), sts.metrics().get("pearson"), 1e-12);
    }
}
