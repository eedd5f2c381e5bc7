package dev.convbert.core;

/**
 * Base of every "the user's input is wrong" error (a file, a line, a field): the CLIs print its one-line message and
 * exit 2, as opposed to failures (1) and bugs (4).
 */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
