package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.predict.PaddedBatch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Why fp16 training scales its loss: with a classifier whose output weights are 1e-3 of the usual, the encoder's gradients are
 * mostly below fp16's smallest normal (6e-5), many below its smallest subnormal (6e-8). Unscaled they flush to zero or
 * lose their digits; scaled by 2^16 they come back as close to the fp32 gradients as fp16 arithmetic gets without any underflow (measured:
 * 1.94 unscaled, 0.030 scaled; 0.035 and 0.042 with the usual head weights).
 */
class LossScalingTest {
    static final PaddedBatch BATCH = new PaddedBatch(
            new long[][]{{101, 2023, 3185, 2001, 2204, 102}, {101, 1037, 11771, 3185, 102, 0}},
            new long[2][6], new long[][]{{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}});

    @Test
    void gradientsThatUnderflowFp16SurviveWithLossScaling() {
        // no dropout: the three passes must see the same network
        ConvBertConfig c = ConvBertConfig.tiny().toBuilder().numGroups(1).hiddenDropoutProb(0).attentionProbsDropoutProb(0)
                .classifierDropout(0.0).id2label(List.of("a", "b")).build();
        float[] labels = {0, 1};
        try (TaskModel m = TaskModel.initialise(c, Device.cpu(), 5)) {
            m.namedParameters().get("classifier.out_proj.weight").parameter().getArray().muli(1e-3f);
            List<float[]> fp32 = encoderGradients(m, 1);
            m.trainInHalfPrecision();
            List<float[]> unscaled = encoderGradients(m, 1);
            List<float[]> scaled = encoderGradients(m, 65536);
            double lost = relativeError(unscaled, fp32);
            double kept = relativeError(scaled, fp32);
            System.out.printf("encoder gradients vs fp32: fp16 unscaled %.3f, fp16 with loss scale 2^16 %.5f (relative L2)%n", lost, kept);
            // fp16's own floor on this model, without underflow (normal head weights): 0.035 scaled, 0.042 unscaled
            assertTrue(lost > 0.5, "unscaled fp16 gradients should have underflowed: " + lost);
            assertTrue(kept < 0.06, "scaled fp16 gradients should be as close to fp32 as fp16 allows: " + kept);
        }
    }

    /** One forward/backward at {@code scale}; the unscaled gradients of the encoder's parameters, then cleared. */
    private static List<float[]> encoderGradients(TaskModel m, double scale) {
        Engine.getInstance().setRandomSeed(3);
        m.forwardBackward(BATCH, new float[]{0, 1}, scale);
        List<NDArray> grads = m.gradients(scale);
        List<String> names = new ArrayList<>(m.namedParameters().keySet());
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < grads.size(); i++) {
            if (names.get(i).startsWith("convbert.encoder.")) {
                out.add(grads.get(i).toFloatArray());
            }
            dev.convbert.trainer.optim.GradientClipping.zero(grads.get(i), 0);
            grads.get(i).close();
        }
        m.clearHalfGradients(0);
        return out;
    }

    private static double relativeError(List<float[]> got, List<float[]> want) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < want.size(); i++) {
            for (int j = 0; j < want.get(i).length; j++) {
                diff += Math.pow(got.get(i)[j] - want.get(i)[j], 2);
                norm += Math.pow(want.get(i)[j], 2);
            }
        }
        return Math.sqrt(diff / norm);
    }
}
