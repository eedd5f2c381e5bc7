package dev.convbert.core.cli;

/** The command ran but its outcome is a failure (exit 1), e.g. a model that misses its accuracy gate. */
public class CommandFailedException extends RuntimeException {
    public CommandFailedException(String message) {
        super(message);
    }
}
