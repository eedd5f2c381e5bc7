package dev.convbert.trainer.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.trainer.ChildJvm;
import dev.convbert.trainer.TrainingFixtures;
import dev.convbert.trainer.checkpoint.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kill -9 a tiny fine-tuning run in a child JVM mid-way (while it writes a checkpoint), resume it, and require the
 * final weights and Adam moments to be bit-equal to an uninterrupted run's.
 */
@org.junit.jupiter.api.Timeout(300)
class ResumeAfterKillTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final int STEPS = 12;

    static List<String> args(Path out, Path config, String precision) {
        return List.of("finetune", "--precision", precision, "--task", "rte", "--data-dir", TESTDATA.resolve("glue").toString(),
                "--config", config.toString(), "--vocab", TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt").toString(),
                "--output", out.toString(), "--max-steps", String.valueOf(STEPS), "--batch-size", "2",
                "--save-every", "3", "--eval-every", "6", "--lr", "1e-3");
    }

    /** fp16 too: the masters, the moments and the loss scale with its counters come back exactly. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"fp32", "fp16"})
    void killedRunResumesToTheSameWeights(String precision, @TempDir Path dir) throws Exception {
        Path config = dir.resolve("tiny.json");
        TrainingFixtures.tiny().write(config);

        Path a = dir.resolve("uninterrupted");
        assertEquals(0, dev.convbert.core.cli.ConvBertCli.commandLine(new java.io.PrintWriter(System.out),
                new java.io.PrintWriter(System.err)).execute(args(a, config, precision).toArray(String[]::new)));

        Path b = dir.resolve("killed");
        List<String> childArgs = new ArrayList<>(List.of("800"));
        childArgs.addAll(args(b, config, precision).subList(1, args(b, config, precision).size()));      // without the "finetune" command name
        Process child = ChildJvm.start(dir, dir.resolve("child.log"), null, "dev.convbert.trainer.cli.PausingFineTune", childArgs);
        Path pointer = b.resolve(Checkpoints.POINTER);
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && child.isAlive()
                && !(Files.exists(pointer) && pointerStep(pointer) >= 3 && hasNewerCheckpointDir(b, pointerStep(pointer)))) {
            Thread.sleep(20);
        }
        assertTrue(child.isAlive(), "the child must still be running when killed: " + Files.readString(dir.resolve("child.log")));
        long killedAt = pointerStep(pointer);
        child.destroyForcibly().waitFor();
        assertTrue(killedAt < STEPS, "killed mid-way, at checkpoint " + killedAt);

        assertEquals(0, dev.convbert.core.cli.ConvBertCli.commandLine(new java.io.PrintWriter(System.out),
                new java.io.PrintWriter(System.err)).execute(withResume(args(b, config, precision))));

        String last = String.format("checkpoint-%08d", STEPS);
        TrainingFixtures.assertBitEqual(a.resolve(last).resolve(Checkpoints.MODEL), b.resolve(last).resolve(Checkpoints.MODEL));
        TrainingFixtures.assertBitEqual(a.resolve(last).resolve(Checkpoints.OPTIMIZER), b.resolve(last).resolve(Checkpoints.OPTIMIZER));
        TrainingFixtures.assertBitEqual(a.resolve("model.safetensors"), b.resolve("model.safetensors"));
        ObjectMapper json = new ObjectMapper();
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

    /** True once the next checkpoint's data is being written (the child pauses before moving the pointer). */
    private static boolean hasNewerCheckpointDir(Path out, long step) throws IOException {
        try (var s = Files.list(out)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("checkpoint-")
                    && !p.getFileName().toString().equals(String.format("checkpoint-%08d", step)));
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
