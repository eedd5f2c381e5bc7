package dev.convbert.core;

/**
 * A run stopped on request (SIGINT, SIGTERM) after saving what it had done: not a failure of the input or the
 * environment. The CLIs print its message as it is and exit with the shell's code for the signal, 128 + its number
 * (130 for SIGINT, 143 for SIGTERM), as a process killed by it would.
 */
public class RunInterruptedException extends RuntimeException {
    private final int exitCode;

    public RunInterruptedException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
