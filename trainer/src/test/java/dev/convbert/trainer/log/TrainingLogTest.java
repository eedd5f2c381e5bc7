package dev.convbert.trainer.log;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** After a crash the steps past the last checkpoint run again: their first records must not stay in metrics.jsonl. */
class TrainingLogTest {
    @Test
    void aResumedLogDropsTheRecordsPastItsCheckpoint(@TempDir Path dir) throws Exception {
        ObjectMapper json = new ObjectMapper();
        try (TrainingLog log = new TrainingLog(dir, "test", 0, 10)) {
            for (int step = 1; step <= 7; step++) {
                log.record(json.createObjectNode().put("step", step));
            }
        }
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 8, \"cut off", java.nio.file.StandardOpenOption.APPEND);
        try (TrainingLog log = new TrainingLog(dir, "test", 5, 10)) {      // the checkpoint was at step 5
            for (int step = 6; step <= 10; step++) {
                log.record(json.createObjectNode().put("step", step));
            }
        }
        List<Long> steps = Files.readAllLines(dir.resolve("metrics.jsonl")).stream()
                .map(l -> {
                    try {
                        return json.readTree(l).get("step").asLong();
                    } catch (Exception e) {
                        throw new AssertionError(l, e);
                    }
                }).toList();
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), steps);
    }
}
