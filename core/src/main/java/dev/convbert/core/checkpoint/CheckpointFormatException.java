package dev.convbert.core.checkpoint;

import dev.convbert.core.InvalidInputException;

import java.nio.file.Path;

/** A checkpoint file that cannot be read as what it claims to be: the message names the file and the tensor or record. */
public class CheckpointFormatException extends InvalidInputException {
    public CheckpointFormatException(Path file, String message) {
        super(file + ": " + message);
    }

    public CheckpointFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
