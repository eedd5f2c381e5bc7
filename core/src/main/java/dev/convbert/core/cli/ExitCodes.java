package dev.convbert.core.cli;

/** Process exit codes of every {@code convbert} command (jbang's convention). */
public final class ExitCodes {
    public static final int OK = 0;
    /** The work failed (I/O, a model that misses its accuracy gate, …). */
    public static final int FAILURE = 1;
    /** Bad input: an option, a file, a line or a field; the message says which. */
    public static final int INVALID_INPUT = 2;
    /** A bug in this program. */
    public static final int INTERNAL_ERROR = 4;

    private ExitCodes() {}
}
