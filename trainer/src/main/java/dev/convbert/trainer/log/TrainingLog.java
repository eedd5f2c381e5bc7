package dev.convbert.trainer.log;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.Progress;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a training run reports: a progress bar on stderr (rate, ETA, loss, lr), a human log file ({@code train.log})
 * and machine-readable step metrics ({@code metrics.jsonl}); both files are appended to, so a resumed run continues them.
 */
public final class TrainingLog implements AutoCloseable {
    private final PrintWriter log;
    private final PrintWriter metrics;
    private final Progress progress;
    private final ObjectMapper json = new ObjectMapper();

    public TrainingLog(Path outputDir, String task, long startStep, long totalSteps) throws IOException {
        Files.createDirectories(outputDir);
        log = open(outputDir.resolve("train.log"));
        truncateAfter(outputDir.resolve("metrics.jsonl"), startStep);
        metrics = open(outputDir.resolve("metrics.jsonl"));
        progress = Progress.start(task, totalSteps, "step");
        progress.step(startStep);
    }

    /**
     * Keeps the records up to {@code step}: after a crash the steps past the last checkpoint are run again, and their
     * first records must not stay beside the new ones.
     */
    private void truncateAfter(Path file, long step) throws IOException {
        if (!Files.isRegularFile(file)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                if (json.readTree(line).path("step").asLong(0) <= step) {
                    kept.add(line);
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                // a line cut off by the crash: dropped
            }
        }
        dev.convbert.core.io.AtomicFiles.writeString(file, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
    }

    private static PrintWriter open(Path p) throws IOException {
        return new PrintWriter(Files.newBufferedWriter(p, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), true);
    }

    /** A line for the log file and stderr. */
    public void info(String message) {
        String line = Instant.now() + " " + message;
        log.println(line);
        System.err.println(message);
    }

    /** A line for the log file only (what the command also says on the console, in its own words). */
    public void note(String message) {
        log.println(Instant.now() + " " + message);
    }

    /** One training step: JSONL always, the log file every {@code every} steps, the progress bar always. */
    public void step(ObjectNode record, String summary, boolean toLogFile) {
        record(record);
        if (toLogFile) {
            log.println(Instant.now() + " " + summary);
        }
        progress.extra(summary);
        progress.step(1);
    }

    public void record(ObjectNode record) {
        try {
            metrics.println(json.writeValueAsString(record));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The per-step records (step, loss, lr, grad_norm, …) of the run in {@code outputDir}, in order. */
    public static List<com.fasterxml.jackson.databind.JsonNode> steps(Path outputDir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<com.fasterxml.jackson.databind.JsonNode> steps = new ArrayList<>();
        for (String line : Files.readAllLines(outputDir.resolve("metrics.jsonl"))) {
            com.fasterxml.jackson.databind.JsonNode row = json.readTree(line);
            if (row.has("grad_norm")) {
                steps.add(row);
            }
        }
        return steps;
    }

    public static String fmt(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }

    @Override
    public void close() {
        progress.close();
        log.close();
        metrics.close();
    }
}
