package dev.convbert.trainer.checkpoint;

import dev.convbert.core.InvalidInputException;

/** A checkpoint that cannot be resumed from; the message names the file and field. */
public class CheckpointException extends InvalidInputException {
    public CheckpointException(String message) {
        super(message);
    }
}
