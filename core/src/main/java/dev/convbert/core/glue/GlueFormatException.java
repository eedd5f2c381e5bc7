package dev.convbert.core.glue;

import java.nio.file.Path;

/** A GLUE file that does not have its task's official layout; the message names file:line and the column. */
public class GlueFormatException extends dev.convbert.core.InvalidInputException {
    private final Path file;
    private final int line;

    public GlueFormatException(Path file, int line, String message) {
        super(file + (line > 0 ? ":" + line : "") + ": " + message);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    public int line() {
        return line;
    }
}
