package dev.convbert.core.modeldir;

import java.nio.file.Path;

/** A model directory that cannot be used: the message names the file (and tensor or field) and what to do. */
public class ModelDirException extends dev.convbert.core.InvalidInputException {
    private final Path path;

    public ModelDirException(Path path, String message) {
        super(path + ": " + message);
        this.path = path;
    }

    public ModelDirException(Path path, String message, Throwable cause) {
        super(path + ": " + message, cause);
        this.path = path;
    }

    public Path path() {
        return path;
    }
}
