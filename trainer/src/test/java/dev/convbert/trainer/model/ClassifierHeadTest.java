package dev.convbert.trainer.model;

import ai.djl.Device;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.config.ConfigException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.config.ParameterShapes;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.predict.Predictor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The original ELECTRA head against HF's: its tensors, its output scale and its STS-B loss. */
class ClassifierHeadTest {
    /** Dropout off, so a training pass computes what an inference pass does. */
    static ConvBertConfig tiny(List<String> labels, ClassifierHead head) {
        return ConvBertConfig.tiny().toBuilder().hiddenDropoutProb(0).attentionProbsDropoutProb(0).classifierDropout(0.0)
                .id2label(labels).build().withClassifierHead(head);
    }

    static final PaddedBatch BATCH = new PaddedBatch(
            new long[][]{{101, 2023, 2003, 1037, 3231, 102}, {101, 7592, 102, 0, 0, 0}},
            new long[][]{{0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}},
            new long[][]{{1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0}});

    @Test
    void electraHeadHasOnlyOutProjAndRoundTripsThroughConfigJson(@TempDir Path dir) throws IOException {
        ConvBertConfig c = tiny(List.of("0", "1"), ClassifierHead.ELECTRA);
        var names = ConvBertWeights.named(new ConvBertForSequenceClassification(c)).keySet();
        assertEquals(ParameterShapes.sequenceClassification(c).keySet(), names);
        assertTrue(names.contains("classifier.out_proj.weight"));
        assertFalse(names.contains("classifier.dense.weight"));

        c.write(dir.resolve("config.json"));
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"classifier_head\" : \"electra\""));
        assertEquals(ClassifierHead.ELECTRA, ConvBertConfig.read(dir.resolve("config.json")).classifierHead());
        ConvBertConfig hf = c.withClassifierHead(ClassifierHead.HF);
        assertFalse(hf.toJsonString().contains("classifier_head"), "HF's head leaves config.json as HF writes it");

        Files.writeString(dir.resolve("bad.json"), c.toJsonString().replace("\"electra\"", "\"pooler\""));
        var e = assertThrows(ConfigException.class, () -> ConvBertConfig.read(dir.resolve("bad.json")));
        assertTrue(e.getMessage().contains("classifier_head") && e.getMessage().contains("pooler"), e.getMessage());
    }

    /** STS-B: the output is 5 × out_proj([CLS]) and the loss is ((output − label) / 5)², ELECTRA's (pred − label/5)². */
    @Test
    void electraRegressionTrainsOnTheScaledLabel() {
        float[] labels = {3.2f, 0.4f};
        for (ClassifierHead head : ClassifierHead.values()) {
            try (TaskModel m = TaskModel.initialise(tiny(List.of("score"), head), Device.cpu(), 5)) {
                Predictor.Output out = m.run(BATCH.inputIds(), BATCH.tokenTypeIds(), BATCH.attentionMask(), true);
                double scale = head.regressionScale();
                double want = 0;
                for (int r = 0; r < labels.length; r++) {
                    double err = (out.logits()[r][0] - labels[r]) / scale;
                    want += err * err / labels.length;
                }
                assertEquals(want, m.forwardBackward(BATCH, labels, 1), 1e-5 * Math.max(1, want), head.id());
                if (head == ClassifierHead.ELECTRA) {
                    float[] w = m.namedParameters().get("classifier.out_proj.weight").parameter().getArray().toFloatArray();
                    float b = m.namedParameters().get("classifier.out_proj.bias").parameter().getArray().getFloat(0);
                    for (int r = 0; r < labels.length; r++) {
                        float[] cls = out.lastHiddenState()[r][0];
                        double linear = b;
                        for (int i = 0; i < cls.length; i++) {
                            linear += w[i] * cls[i];
                        }
                        assertEquals(5 * linear, out.logits()[r][0], 1e-5, "output = 5 × out_proj([CLS])");
                    }
                }
            }
        }
    }
}
