package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.convbert.trainer.ReferenceSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DJL model against the outputs of an independent ConvBERT implementation (HF op sequence, float64) on HF-named
 * random weights with padded inputs: max |Δ| ≤ 1e-4 on logits, on last_hidden_state at real-token positions, and — as
 * HF semantics run padding exactly — on every hidden state at every position.
 */
class ReferenceParityTest {

    @ParameterizedTest
    @ValueSource(strings = {"public-tiny", "public-grouped"})
    void logitsAndHiddenStatesMatchTheReference(String set) throws IOException {
        ReferenceSet ref = ReferenceSet.load(set);
        try (TaskModel m = TaskModel.load(ref.dir(), Device.cpu())) {
            dev.convbert.core.predict.Predictor.Output out = m.run(ref.inputIds(), ref.tokenTypeIds(), ref.attentionMask(), true);
            double[] logits = ref.f64("logits");
            int labels = m.config().numLabels();
            double maxLogit = 0;
            for (int b = 0; b < ref.batch(); b++) {
                for (int c = 0; c < labels; c++) {
                    maxLogit = Math.max(maxLogit, Math.abs(out.logits()[b][c] - logits[b * labels + c]));
                }
            }
            assertTrue(maxLogit <= 1e-4, set + " logits max |Δ| = " + maxLogit);

            double[] last = ref.f64("last_hidden_state");
            int hidden = m.config().hiddenSize();
            double maxHidden = 0;
            for (int b = 0; b < ref.batch(); b++) {
                for (int l = 0; l < ref.length(); l++) {
                    if (ref.attentionMask()[b][l] == 0) {
                        continue;
                    }
                    for (int d = 0; d < hidden; d++) {
                        double want = last[(b * ref.length() + l) * hidden + d];
                        maxHidden = Math.max(maxHidden, Math.abs(out.lastHiddenState()[b][l][d] - want));
                    }
                }
            }
            assertTrue(maxHidden <= 1e-4, set + " last_hidden_state max |Δ| = " + maxHidden);
            System.out.printf("%s: logits max |Δ| %.2e, last_hidden_state (real tokens) max |Δ| %.2e%n", set, maxLogit, maxHidden);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"public-tiny", "public-grouped"})
    void everyLayerMatchesAtEveryPosition(String set) throws IOException {
        ReferenceSet ref = ReferenceSet.load(set);
        try (TaskModel m = TaskModel.load(ref.dir(), Device.cpu());
             NDManager step = m.manager().newSubManager()) {
            NDList inputs = new NDList(TaskModel.matrix(step, ref.inputIds()), TaskModel.matrix(step, ref.tokenTypeIds()),
                    TaskModel.matrix(step, ref.attentionMask()));
            List<NDArray> states = new ArrayList<>();
            m.block().run(m.parameterStore(), inputs, false, states);
            double[] want = ref.f64("hidden_states");
            int per = want.length / states.size();
            for (int i = 0; i < states.size(); i++) {
                float[] got = states.get(i).toFloatArray();
                assertEquals(per, got.length);
                double max = 0;
                for (int j = 0; j < per; j++) {
                    max = Math.max(max, Math.abs(got[j] - want[i * per + j]));
                }
                assertTrue(max <= 1e-4, set + " hidden_states[" + i + "] max |Δ| = " + max);
            }
        }
    }
}
