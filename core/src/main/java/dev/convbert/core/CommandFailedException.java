package dev.convbert.core;

/**
 * The command ran but failed for a reason outside the user's input (exit 1): the machine (a missing GPU provider, a
 * runtime that failed on a batch) or the outcome (a model that misses its accuracy gate, a diverged run).
 */
public class CommandFailedException extends RuntimeException {
    public CommandFailedException(String message) {
        super(message);
    }

    public CommandFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
