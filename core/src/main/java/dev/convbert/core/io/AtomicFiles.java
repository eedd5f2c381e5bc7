package dev.convbert.core.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes files so that a crash at any instant leaves either the old complete file or the new one:
 * data goes to {@code name.tmp-<pid>} in the same directory, is fsynced, then renamed over the target.
 *
 * <p>A target that exists and is not a regular file ({@code /dev/null}, {@code /dev/stdout}, a FIFO a reader waits
 * on) is written in place: renaming over it would replace the device or pipe with a plain file and its reader would
 * get nothing.
 */
public final class AtomicFiles {

    /** The body of an atomic write; it writes the whole new content to {@code out}. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {}

    public static void write(Path target, Writer body) throws IOException {
        if (Files.exists(target) && !Files.isRegularFile(target) && !Files.isDirectory(target)) {
            writeInPlace(target, body);
            return;
        }
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = tempFor(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
                 OutputStream out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch), 1 << 16)) {
                body.write(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.nio.file.FileSystemException e) {
            throw e;        // already names its file
        } catch (IOException e) {
            // "No space left on device" names no file; the user needs to know which output failed
            throw new IOException(target + ": cannot be written: " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeInPlace(Path target, Writer body) throws IOException {
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(target, StandardOpenOption.WRITE), 1 << 16)) {
            body.write(out);
            out.flush();
        } catch (java.nio.file.FileSystemException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(target + ": cannot be written: " + e.getMessage(), e);
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /** The temporary name used for {@code target}; resume logic never treats such a file as complete. */
    public static Path tempFor(Path target) {
        return target.toAbsolutePath().resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    }

    /** Removes {@code p} and everything below it (a half-written temporary directory, an old checkpoint); absent is fine. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /** Copies the tree {@code from} to {@code to}, file times kept (a damaged copy to test a resume on); returns {@code to}. */
    public static Path copyTree(Path from, Path to) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return to;
    }

    public static boolean isTemp(Path p) {
        return p.getFileName().toString().matches(".*\\.tmp-\\d+$");
    }
}
