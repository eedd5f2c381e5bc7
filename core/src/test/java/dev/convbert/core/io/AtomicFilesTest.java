package dev.convbert.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @Test
    void failedWriteLeavesTheOldFileAndNoTemp(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("ckpt.bin");
        AtomicFiles.writeString(f, "old complete content");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write("half of the new".getBytes());
            throw new IOException("disk full after k bytes");
        }));
        assertEquals("old complete content", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left behind");
        }
        assertTrue(AtomicFiles.isTemp(AtomicFiles.tempFor(f)));
        AtomicFiles.writeString(f, "new");
        assertEquals("new", Files.readString(f));
    }
}
