package dev.convbert.trainer.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.trainer.ChildJvm;
import dev.convbert.trainer.TrainingFixtures;
import dev.convbert.trainer.checkpoint.Checkpoints;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kill -9 a tiny fine-tuning run in a child JVM mid-way, leave the next checkpoint on disk but not named by the
 * pointer (what a death during its commit leaves), resume, and require the final weights and Adam moments to be
 * bit-equal to an uninterrupted run's.
 */
@org.junit.jupiter.api.Timeout(300)
class ResumeAfterKillTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final int STEPS = 12;

    static List<String> args(Path out, Path config, String precision) {
        return TrainingFixtures.finetuneArgs(config, out, STEPS, 2, "--precision", precision, "--save-every", "3", "--eval-every", "6");
    }

    /** fp16 too: the masters, the moments and the loss scale with its counters come back exactly. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"fp32", "fp16"})
    void killedRunResumesToTheSameWeights(String precision, @TempDir Path dir) throws Exception {
        Path config = dir.resolve("tiny.json");
        TrainingFixtures.tiny().write(config);

        Path a = dir.resolve("uninterrupted");
        assertEquals(0, ConvBertCli.commandLine(new java.io.PrintWriter(System.out),
                new java.io.PrintWriter(System.err)).execute(args(a, config, precision).toArray(String[]::new)));

        Path b = dir.resolve("killed");
        Process child = ChildJvm.start(dir, dir.resolve("child.log"), null, ConvBertCli.class.getName(), args(b, config, precision));
        Path pointer = b.resolve(Checkpoints.POINTER);
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && child.isAlive() && pointerStep(pointer) < 3) {
            Thread.sleep(20);
        }
        assertTrue(child.isAlive(), "the child must still be running when killed: " + Files.readString(dir.resolve("child.log")));
        child.destroyForcibly().waitFor();
        long killedAt = pointerStep(pointer);
        assertTrue(killedAt >= 3 && killedAt < STEPS, "killed mid-way, at checkpoint " + killedAt);

        // what a death between a checkpoint's rename and the pointer's move leaves: the next step's directory complete
        // on disk, the pointer still on the previous one. Made certain here, with a directory that verifies but holds
        // the previous step's weights under the next step's number: trusting it instead of the pointer would skip
        // three steps and end on other weights; the resume must start where the pointer says and write it again.
        Path unnamed = b.resolve(String.format("checkpoint-%08d", killedAt + 3));
        AtomicFiles.deleteTree(unnamed);
        dev.convbert.core.io.AtomicFiles.copyTree(b.resolve(String.format("checkpoint-%08d", killedAt)), unnamed);
        ObjectMapper json = new ObjectMapper();
        ObjectNode state = (ObjectNode) json.readTree(unnamed.resolve(Checkpoints.STATE).toFile());
        Files.writeString(unnamed.resolve(Checkpoints.STATE), json.writeValueAsString(state.put("step", killedAt + 3)));
        ObjectNode sums = (ObjectNode) json.readTree(unnamed.resolve(Checkpoints.CHECKSUMS).toFile());
        ((ObjectNode) sums.get("sha256")).put(Checkpoints.STATE, Hashing.sha256(unnamed.resolve(Checkpoints.STATE)));
        Files.writeString(unnamed.resolve(Checkpoints.CHECKSUMS), json.writeValueAsString(sums.put("step", killedAt + 3)));

        assertEquals(0, ConvBertCli.commandLine(new java.io.PrintWriter(System.out),
                new java.io.PrintWriter(System.err)).execute(withResume(args(b, config, precision))));

        String last = String.format("checkpoint-%08d", STEPS);
        TrainingFixtures.assertBitEqual(a.resolve(last).resolve(Checkpoints.MODEL), b.resolve(last).resolve(Checkpoints.MODEL));
        TrainingFixtures.assertBitEqual(a.resolve(last).resolve(Checkpoints.OPTIMIZER), b.resolve(last).resolve(Checkpoints.OPTIMIZER));
        TrainingFixtures.assertBitEqual(a.resolve("model.safetensors"), b.resolve("model.safetensors"));
        assertEquals(json.readTree(a.resolve(last).resolve(Checkpoints.STATE).toFile()).get("loss_scale"),
                json.readTree(b.resolve(last).resolve(Checkpoints.STATE).toFile()).get("loss_scale"));
        var lossesA = losses(a);
        var lossesB = losses(b);
        assertEquals(lossesA.get(STEPS - 1), lossesB.get(lossesB.size() - 1), "the last step's loss is identical");
    }

    private static String[] withResume(List<String> args) {
        List<String> l = new ArrayList<>(args);
        l.add("--resume");
        return l.toArray(String[]::new);
    }

    private static long pointerStep(Path pointer) {
        try {
            return new ObjectMapper().readTree(pointer.toFile()).get("step").asLong();
        } catch (IOException e) {
            return -1;   // being replaced right now
        }
    }

    private static List<Double> losses(Path out) throws IOException {
        List<Double> l = new ArrayList<>();
        ObjectMapper m = new ObjectMapper();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            var n = m.readTree(line);
            if (n.has("loss")) {
                l.add(n.get("loss").asDouble());
            }
        }
        return l;
    }
}
