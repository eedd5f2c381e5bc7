package dev.convbert.core.io;

import dev.convbert.core.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One writer per output directory: an OS lock ({@link FileChannel#tryLock}) on {@value #FILE} inside it, held while the
 * run writes. The OS releases it when the process dies, however it dies, so a kill -9 leaves no stale lock to clean up.
 * The file stays after the run (deleting a lock file races with the next writer opening it) and says who held it last.
 */
public final class OutputLock implements AutoCloseable {
    public static final String FILE = ".convbert.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private OutputLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dir} (created if missing) for {@code command}; another process or run holding it is refused (exit 2),
     * naming the directory and the holder's pid.
     */
    public static OutputLock acquire(Path dir, String command) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;   // this very process holds it, for another run
        } catch (IOException e) {
            ch.close();
            throw new IOException(file + ": cannot be locked: " + e.getMessage(), e);
        }
        if (lock == null) {
            String holder = holder(ch);
            ch.close();
            throw new InvalidInputException(dir + ": another run is writing to it (" + holder + "); wait for it to end, "
                    + "or choose another output directory");
        }
        String who = "pid " + ProcessHandle.current().pid() + ", " + command + ", since " + Instant.now() + "\n";
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(who.getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        return new OutputLock(ch, lock);
    }

    private static String holder(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(512);
        ch.read(b, 0);
        String s = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
        return s.isEmpty() ? "pid unknown: it has just started" : s;
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
