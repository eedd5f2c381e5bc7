package dev.convbert.trainer.cli;

import dev.convbert.core.RunInterruptedException;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.TrainingFixtures;
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.StopAfter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints are verified before a resume trusts them: a damaged newest checkpoint is refused by name and the previous
 * one taken (the run still ends bit-identical), nothing verifies → exit 2 naming the file, and the pointer may not lead
 * outside the run.
 */
class CheckpointIntegrityTest {
    static final int STEPS = 10;

    @TempDir
    static Path dir;
    static Path config;
    static Path reference;

    @BeforeAll
    static void uninterrupted() throws Exception {
        config = TrainingFixtures.tinyConfig(dir);
        reference = dir.resolve("uninterrupted");
        StringWriter err = new StringWriter();
        assertEquals(0, cli(err, args(reference)), err.toString());
    }

    static List<String> args(Path out) {
        return TrainingFixtures.finetuneArgs(config, out, STEPS, 2, "--save-every", "2", "--eval-every", "5");
    }

    /** Steps 1–6 of the run, stopped there as by SIGTERM: checkpoints 4 and 6 stay (the default keeps two). */
    static Path stoppedAtSix(String name) throws Exception {
        Path out = dir.resolve(name);
        FinetuneCommand command = new FinetuneCommand();
        new CommandLine(command).parseArgs(args(out).subList(1, args(out).size()).toArray(String[]::new));
        var stopped = assertThrows(RunInterruptedException.class,
                () -> command.tuner(RunControl.defaults().withStop(new StopAfter(6))).run(false));
        assertEquals(143, stopped.exitCode());
        assertTrue(stopped.getMessage().contains("interrupted at step 6"), stopped.getMessage());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of("checkpoint-00000004", "checkpoint-00000006"), s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("checkpoint-")).sorted().toList());
        }
        return out;
    }

    @Test
    void aDamagedNewestCheckpointIsRefusedByNameAndThePreviousOneResumes() throws Exception {
        Path out = stoppedAtSix("fallback");
        Path damaged = out.resolve("checkpoint-00000006").resolve(Checkpoints.MODEL);
        setLastFloats(damaged, 8, 1000f);

        StringWriter err = new StringWriter();
        assertEquals(0, cli(err, withResume(args(out))), err.toString());
        String log = Files.readString(out.resolve("train.log"));
        assertTrue(log.contains(damaged + ": damaged since it was written"), log);
        assertTrue(log.contains("falling back to the previous checkpoint"), log);
        assertTrue(log.contains("resuming from " + out.resolve("checkpoint-00000004") + " (step 4)"), log);
        assertTrue(Files.isDirectory(out.resolve("damaged-checkpoint-00000006")), "kept aside for inspection");
        String last = String.format("checkpoint-%08d", STEPS);
        TrainingFixtures.assertBitEqual(reference.resolve(last).resolve(Checkpoints.MODEL), out.resolve(last).resolve(Checkpoints.MODEL));
        TrainingFixtures.assertBitEqual(reference.resolve(last).resolve(Checkpoints.OPTIMIZER), out.resolve(last).resolve(Checkpoints.OPTIMIZER));
    }

    @Test
    void whenNoCheckpointVerifiesTheResumeIsRefusedNamingTheFile() throws Exception {
        Path out = stoppedAtSix("all-damaged");
        setLastFloats(out.resolve("checkpoint-00000006").resolve(Checkpoints.OPTIMIZER), 8, 1000f);
        Files.writeString(out.resolve("checkpoint-00000004").resolve(Checkpoints.STATE), " ", java.nio.file.StandardOpenOption.APPEND);
        StringWriter err = new StringWriter();
        assertEquals(2, cli(err, withResume(args(out))), err.toString());
        assertTrue(err.toString().contains(out.resolve("checkpoint-00000006").resolve(Checkpoints.OPTIMIZER) + ": damaged"),
                err.toString());
        assertTrue(err.toString().contains("no earlier checkpoint verifies"), err.toString());
    }

    @Test
    void thePointerMayNotLeadOutsideTheRun() throws Exception {
        Path out = stoppedAtSix("escape");
        Path elsewhere = dir.resolve("elsewhere/checkpoint-00000006");
        dev.convbert.core.io.AtomicFiles.copyTree(out.resolve("checkpoint-00000006"), elsewhere);
        Files.writeString(out.resolve(Checkpoints.POINTER), "{\"step\": 6, \"dir\": \"../elsewhere/checkpoint-00000006\"}");
        StringWriter err = new StringWriter();
        assertEquals(2, cli(err, withResume(args(out))), err.toString());
        assertTrue(err.toString().contains(out.resolve(Checkpoints.POINTER) + ": field \"dir\""), err.toString());
        assertTrue(err.toString().contains("may not lead outside the run"), err.toString());
    }

    /** Overwrites the last {@code n} little-endian floats of a file, keeping its size (8 weights set to 1000.0). */
    static void setLastFloats(Path file, int n, float value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                b.putFloat(value);
            }
            f.seek(f.length() - 4L * n);
            f.write(b.array());
        }
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

}
