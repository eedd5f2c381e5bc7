package dev.convbert.runtime.score;

import dev.convbert.core.InvalidInputException;

/** A model or request the runtime cannot serve as asked: names the file, provider or field and what to do. */
public class ScoringException extends InvalidInputException {
    public ScoringException(String message) {
        super(message);
    }

    public ScoringException(String message, Throwable cause) {
        super(message, cause);
    }
}
