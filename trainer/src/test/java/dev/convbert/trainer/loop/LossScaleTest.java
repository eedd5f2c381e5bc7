package dev.convbert.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.LossScale;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.ParamGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Dynamic loss scaling in the loop: an overflowed step changes nothing but the scale, which the state carries. */
class LossScaleTest {
    @Test
    void theScaleHalvesOnAnOverflowAndDoublesAfterTheGrowthInterval() {
        LossScale s = LossScale.dynamicFrom(LossScale.INITIAL);
        s = s.after(false);
        assertEquals(new LossScale(32768, 0, 1, true), s);
        for (int i = 0; i < LossScale.GROWTH_INTERVAL - 1; i++) {
            s = s.after(true);
        }
        assertEquals(32768, s.scale());
        assertEquals(new LossScale(65536, 0, 1, true), s.after(true));
        assertEquals(LossScale.NONE, LossScale.NONE.after(true));
        assertEquals(new LossScale(1, 0, 1, false), LossScale.NONE.after(false), "fp32 counts a skipped step, never scales");
        assertEquals(s, LossScale.fromJson(s.toJson()));
        assertEquals(LossScale.NONE, LossScale.fromJson(null), "a checkpoint from before loss scaling is fp32");
    }

    /**
     * Four steps of AdamW on one parameter; the third one's gradient is infinite: that step leaves the weights and both
     * moments bit-identical, halves the scale and counts the skip; the loop divides every gradient by the scale it used.
     */
    @Test
    void anOverflowedStepLeavesWeightsAndMomentsUntouched(@TempDir Path out) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            Parameter w = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).build();
            w.setArray(manager.create(new float[]{1f, -2f, 3f}));
            List<ParamGroup> groups = List.of(new ParamGroup("w", w, true, 1.0));
            AdamW adam = AdamW.original(0.01);
            List<float[]> weights = new ArrayList<>();
            List<List<SafeTensor>> moments = new ArrayList<>();
            List<Double> scales = new ArrayList<>();
            TrainingLoop.Task task = new TrainingLoop.Task() {
                long step;

                @Override
                public TrainingLoop.StepResult forwardBackward(long s, double lossScale) {
                    step = s;
                    scales.add(lossScale);
                    return new TrainingLoop.StepResult(0.5, 1, 3, Map.of(), "");
                }

                @Override
                public List<NDArray> gradients(double lossScale) {
                    float v = step == 2 ? Float.POSITIVE_INFINITY : 0.25f;
                    // what a scaled backward gives, divided by the scale as a task does
                    return List.of(manager.create(new float[]{v * (float) lossScale, -v * (float) lossScale, 0f}).divi(lossScale));
                }

                @Override
                public void cleared(double norm) {
                    weights.add(w.getArray().toFloatArray());
                    moments.add(adam.state());
                }

                @Override
                public List<SafeTensor> weights() {
                    return List.of(SafeTensor.ofFloats("w", new long[]{3}, w.getArray().toFloatArray()));
                }
            };
            TrainState start = TrainState.start(new ObjectMapper().createObjectNode().put("test", 1), LossScale.dynamicFrom(1024));
            try (TrainingLog log = new TrainingLog(out, "test", 0, 4)) {
                TrainingLoop loop = new TrainingLoop(new TrainingLoop.Schedule(4, 4, 0, 0, 1.0), new LrSchedule(0.1, 0, 4),
                        new Seeds(1), groups, adam, new Checkpoints(out, 2), log);
                TrainState end = loop.run(task, start, StopRequest.NEVER);
                assertEquals(List.of(1024.0, 1024.0, 1024.0, 512.0), scales);
                assertEquals(new LossScale(512, 1, 1, true), end.lossScale());
                assertEquals(3, end.updates());
            }
            assertArrayEquals(weights.get(1), weights.get(2), 0f, "the overflowed step changed the weights");
            for (int i = 0; i < moments.get(1).size(); i++) {
                assertArrayEquals(moments.get(1).get(i).toFloats(), moments.get(2).get(i).toFloats(), 0f, "moment " + i);
            }
            assertNotEquals(weights.get(2)[0], weights.get(3)[0], "the next step updates again");
            List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
            assertEquals(1024.0, new ObjectMapper().readTree(lines.get(2)).get("loss_scale").asDouble());
            assertEquals(1, new ObjectMapper().readTree(lines.get(2)).get("skipped_steps").asLong());
        }
    }
}
