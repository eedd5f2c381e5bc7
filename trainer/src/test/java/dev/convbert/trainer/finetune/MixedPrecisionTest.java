package dev.convbert.trainer.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.trainer.TrainingFixtures;
import dev.convbert.trainer.checkpoint.Checkpoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** finetune --precision fp16 against fp32 on the same seed and data, an overflow, and a resume with another precision. */
class MixedPrecisionTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path config;

    @BeforeAll
    static void fixtures() throws IOException {
        config = TrainingFixtures.tinyConfig(dir);
    }

    static List<String> args(Path out, String precision, int steps, String... more) {
        List<String> a = new ArrayList<>(TrainingFixtures.finetuneArgs(config, out, steps, 4,
                "--eval-every", "10", "--precision", precision));
        a.addAll(List.of(more));
        return a;
    }

    static int run(StringWriter err, List<String> args) {
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(args.toArray(String[]::new));
    }

    static List<JsonNode> steps(Path out) throws IOException {
        return dev.convbert.trainer.log.TrainingLog.steps(out);
    }

    /**
     * 30 steps at lr 1e-3: every step's loss within 5e-3 of fp32's. fp16 keeps 11 significant bits (relative rounding
     * 4.9e-4 per operation); the loss of an O(1) cross-entropy through a few dozen roundings stays within ~1e-3, and the
     * weights the two runs reach drift apart only by their updates' rounding (measured: 2e-5 at most). The final dev
     * accuracy within 0.02.
     */
    @Test
    void fp16TracksFp32OnTheSameSeedAndData() throws IOException {
        Path a = dir.resolve("fp32");
        Path b = dir.resolve("fp16");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, args(a, "fp32", 30)), err.toString());
        assertEquals(0, run(err, args(b, "fp16", 30)), err.toString());
        assertTrue(err.toString().contains("--precision fp16 on the CPU: correct but slower"), err.toString());
        List<JsonNode> x = steps(a);
        List<JsonNode> y = steps(b);
        assertEquals(30, y.size());
        double max = 0;
        for (int i = 0; i < 30; i++) {
            max = Math.max(max, Math.abs(x.get(i).get("loss").asDouble() - y.get(i).get("loss").asDouble()));
            assertEquals(65536.0, y.get(i).get("loss_scale").asDouble(), "no overflow, no growth in 30 steps");
            assertEquals(0, y.get(i).get("skipped_steps").asLong());
            assertTrue(!x.get(i).has("loss_scale"), "fp32 records no loss scale");
        }
        System.out.printf("fp16 vs fp32, 30 steps: max |Δloss| %.2e%n", max);
        assertTrue(max < 5e-3, "max |Δloss| " + max);
        double devA = JSON.readTree(a.resolve("training_metrics.json").toFile()).get("best").get("value").asDouble();
        double devB = JSON.readTree(b.resolve("training_metrics.json").toFile()).get("best").get("value").asDouble();
        assertEquals(devA, devB, 0.02);
        assertEquals("fp16", JSON.readTree(b.resolve("training_metrics.json").toFile()).get("hyperparameters").get("precision").asText());
        // the model directory stays fp32 safetensors, as every fp32 run's
        assertTrue(Files.readString(b.resolve("model.safetensors"), java.nio.charset.StandardCharsets.ISO_8859_1).contains("\"F32\""));
        assertTrue(!Files.readString(b.resolve("model.safetensors"), java.nio.charset.StandardCharsets.ISO_8859_1).contains("\"F16\""));

        StringWriter refused = new StringWriter();
        List<String> resume = new ArrayList<>(args(b, "fp32", 30));
        resume.add("--resume");
        assertEquals(2, run(refused, resume), refused.toString());
        assertTrue(refused.toString().contains("precision"), refused.toString());
    }

    /** A scale of 1e10 overflows fp16 at once: the steps are skipped (weights and moments unchanged), the scale halves. */
    @Test
    void anOverflowSkipsTheUpdateAndHalvesTheScale() throws IOException {
        Path out = dir.resolve("overflow");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, args(out, "fp16", 2, "--loss-scale", "1e10", "--save-every", "1")), err.toString());
        List<JsonNode> s = steps(out);
        assertEquals(1e10, s.get(0).get("loss_scale").asDouble());
        assertEquals(1, s.get(0).get("skipped_steps").asLong());
        assertEquals(5e9, s.get(1).get("loss_scale").asDouble());
        assertEquals(2, s.get(1).get("skipped_steps").asLong());
        TrainingFixtures.assertBitEqual(out.resolve("checkpoint-00000001").resolve(Checkpoints.MODEL),
                out.resolve("checkpoint-00000002").resolve(Checkpoints.MODEL));
        TrainingFixtures.assertBitEqual(out.resolve("checkpoint-00000001").resolve(Checkpoints.OPTIMIZER),
                out.resolve("checkpoint-00000002").resolve(Checkpoints.OPTIMIZER));
        JsonNode state = JSON.readTree(out.resolve("checkpoint-00000002").resolve("trainer_state.json").toFile());
        assertEquals(2.5e9, state.get("loss_scale").get("scale").asDouble(), "the next step's scale is checkpointed");
        assertEquals(0, state.get("updates").asLong());
        assertTrue(Files.readString(out.resolve("train.log")).contains("update skipped, loss scale 10000000000 -> 5000000000"));
    }
}
