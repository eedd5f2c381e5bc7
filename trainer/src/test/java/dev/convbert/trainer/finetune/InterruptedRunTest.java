package dev.convbert.trainer.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.trainer.ChildJvm;
import dev.convbert.trainer.TrainingFixtures;
import dev.convbert.trainer.checkpoint.Checkpoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What schedulers, laptops and full disks do to a training process, done to a real one: {@code finetune} in a child
 * JVM gets SIGINT or SIGTERM mid-step, twice in a row, a second writer beside it, a file-size limit below its
 * checkpoint. Each interrupted run must resume to the weights of the uninterrupted one, bit for bit.
 */
class InterruptedRunTest {
    /** Long enough that a signal sent after step 3 always finds the child training. */
    static final int STEPS = 200;

    @TempDir
    static Path dir;
    static Path config;
    static Path reference;

    @BeforeAll
    static void uninterrupted() throws Exception {
        config = TrainingFixtures.tinyConfig(dir);
        reference = dir.resolve("uninterrupted");
        assertEquals(0, cli(new StringWriter(), args(reference, 1000)));
    }

    static List<String> args(Path out, int saveEvery) {
        return TrainingFixtures.finetuneArgs(config, out, STEPS, 2, "--save-every", String.valueOf(saveEvery), "--eval-every", "50");
    }

    @ParameterizedTest
    @ValueSource(strings = {"INT", "TERM"})
    @Timeout(240)
    void aSignalEndsTheStepInFlightCheckpointsItAndTheRunResumesExactly(String signal) throws Exception {
        Path work = Files.createDirectories(dir.resolve("work-" + signal));
        Path out = dir.resolve("signal-" + signal);
        Path log = work.resolve("child.log");
        Process child = ChildJvm.start(work, log, null, ConvBertCli.class.getName(), args(out, 1000));
        awaitSteps(child, out, log, 3);

        // one writer per output: a second run into the same directory is refused, naming the holder
        StringWriter err = new StringWriter();
        assertEquals(2, cli(err, args(out, 1000)), err.toString());
        assertTrue(err.toString().contains(out.toString()) && err.toString().contains("pid " + child.pid()), err.toString());

        ChildJvm.signal(child, signal);
        int exit = ChildJvm.exit(child, log, 120);
        String text = Files.readString(log);
        assertEquals(signal.equals("INT") ? 130 : 143, exit, text);
        long step = pointerStep(out);
        assertTrue(step >= 3 && step < STEPS, "stopped mid-run, at " + step + ": " + text);
        assertTrue(text.contains("interrupted at step " + step + " by SIG" + signal), text);
        assertEquals(step, lastLoggedStep(out), "the checkpoint holds every step the run did");
        assertNoCrashReport(work);

        assertEquals(0, cli(new StringWriter(), withResume(args(out, 1000))));
        assertSameRun(reference, out);
    }

    @Test
    @Timeout(240)
    void aSecondSignalExitsAtOnceAndTheLastCompleteCheckpointResumes() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work-twice"));
        Path out = dir.resolve("twice");
        Path log = work.resolve("child.log");
        // a checkpoint every step, so the second signal is likely to land inside a checkpoint write
        Process child = ChildJvm.start(work, log, null, ConvBertCli.class.getName(), args(out, 1));
        awaitSteps(child, out, log, 3);
        ChildJvm.signal(child, "INT");
        ChildJvm.signal(child, "INT");
        int exit = ChildJvm.exit(child, log, 60);
        assertEquals(130, exit, Files.readString(log));
        assertNoCrashReport(work);

        StringWriter err = new StringWriter();
        assertEquals(0, cli(err, withResume(args(out, 1))), err.toString());
        String trainLog = Files.readString(out.resolve("train.log"));
        assertTrue(trainLog.contains("resuming from " + out.resolve("checkpoint-")), trainLog);
        assertSameRun(reference, out);
    }

    @Test
    @Timeout(240)
    void aCheckpointThatCannotBeWrittenLeavesNoPartialDirectory() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work-full"));
        Path out = dir.resolve("full");
        Path log = work.resolve("child.log");
        // 3 MB per file: vocab.txt and the logs fit, the tiny model's 4 MB of weights do not (EFBIG, as a full disk's ENOSPC)
        Process child = ChildJvm.start(work, log, "ulimit -f 3000", ConvBertCli.class.getName(), args(out, 2));
        int exit = ChildJvm.exit(child, log, 120);
        String text = Files.readString(log);
        assertEquals(1, exit, text);
        assertTrue(text.contains("checkpoint-00000002") && text.contains("File too large"), text);
        try (Stream<Path> s = Files.list(out)) {
            List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint")).toList();
            assertEquals(List.of(), left, "no partial checkpoint and no pointer: " + text);
        }
        assertNoCrashReport(work);
    }

    static int cli(StringWriter err, List<String> args) {
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                .execute(args.toArray(String[]::new));
    }

    static List<String> withResume(List<String> args) {
        List<String> l = new ArrayList<>(args);
        l.add("--resume");
        return l;
    }

    private static void awaitSteps(Process child, Path out, Path log, int steps) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (lastLoggedStep(out) < steps) {
            assertTrue(child.isAlive(), "the child ended before step " + steps + ": " + Files.readString(log));
            assertTrue(System.currentTimeMillis() < deadline, "no step " + steps + " within 120 s: " + Files.readString(log));
            Thread.sleep(10);
        }
    }

    private static long lastLoggedStep(Path out) throws IOException {
        Path metrics = out.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) {
            return 0;
        }
        long last = 0;
        for (String line : Files.readAllLines(metrics)) {
            try {
                var n = new ObjectMapper().readTree(line);
                if (n.has("loss")) {
                    last = n.get("step").asLong();
                }
            } catch (IOException e) {
                // the line being written
            }
        }
        return last;
    }

    private static long pointerStep(Path out) throws IOException {
        return new ObjectMapper().readTree(out.resolve(Checkpoints.POINTER).toFile()).get("step").asLong();
    }

    private static void assertNoCrashReport(Path work) throws IOException {
        try (Stream<Path> s = Files.list(work)) {
            List<String> reports = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("hs_err")).toList();
            assertEquals(List.of(), reports, "the JVM crashed");
        }
    }

    static void assertSameRun(Path a, Path b) throws IOException {
        String last = String.format("checkpoint-%08d", STEPS);
        TrainingFixtures.assertBitEqual(a.resolve(last).resolve(Checkpoints.MODEL), b.resolve(last).resolve(Checkpoints.MODEL));
        TrainingFixtures.assertBitEqual(a.resolve(last).resolve(Checkpoints.OPTIMIZER), b.resolve(last).resolve(Checkpoints.OPTIMIZER));
        TrainingFixtures.assertBitEqual(a.resolve("model.safetensors"), b.resolve("model.safetensors"));
        assertFalse(Files.exists(b.resolve(String.format("checkpoint-%08d", STEPS + 1))));
    }
}
