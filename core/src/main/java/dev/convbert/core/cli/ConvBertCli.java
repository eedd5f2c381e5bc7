package dev.convbert.core.cli;

import dev.convbert.core.CommandFailedException;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.RunInterruptedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.ServiceLoader;

/**
 * {@code convbert <command>}: the one entry point. Subcommands come from every module on the classpath
 * ({@link SubcommandProvider}); errors print one line and map to {@link ExitCodes}, the stack trace only with
 * {@code --verbose}.
 */
@Command(name = "convbert", version = "convbert 0.1.0",
        description = "Pre-train, fine-tune, export, score, serve and benchmark ConvBERT.",
        footer = {"  convbert finetune --task sst-2 --data-dir $GLUE_DIR --model pretrained/ --output runs/sst2",
                "  convbert export --model runs/sst2 --output export/sst2.onnx",
                "  convbert score --model export/sst2.onnx --task sst-2 --data-dir $GLUE_DIR",
                "  convbert serve --model export/sst2.onnx --port 8080"},
        // every command, whichever module adds it, gets --help and --version, lists its options in the order they are
        // declared (grouped by meaning, not by letter) and ends with its examples under one heading
        scope = CommandLine.ScopeType.INHERIT, mixinStandardHelpOptions = true, sortOptions = false,
        footerHeading = "%nExamples:%n",
        subcommandsRepeatable = false)
public final class ConvBertCli implements Runnable {
    @Spec
    CommandSpec spec;

    @CommandLine.Option(names = "--verbose", description = "Print stack traces on errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command; see 'convbert --help'");
    }

    /**
     * JVM-wide settings belong to the process's entry point, not to the library types that happen to read them. The
     * JDK's HTTP server (serve) reads its request deadline once per JVM: a request's line, headers and body must arrive
     * within it or the connection is closed, so a client that sends slowly cannot hold a handler thread. An
     * application embedding {@code PredictionServer} sets the same flag itself ({@code -Dsun.net.httpserver.maxReqTime=5}).
     */
    private static final String HTTP_REQUEST_DEADLINE = "sun.net.httpserver.maxReqTime";
    private static final String HTTP_REQUEST_DEADLINE_SECONDS = "5";

    /** Columns of --help when the terminal's width is unknown (a pipe, a test). */
    static final int HELP_WIDTH = 120;

    public static void main(String[] args) {
        if (System.getProperty(HTTP_REQUEST_DEADLINE) == null) {
            System.setProperty(HTTP_REQUEST_DEADLINE, HTTP_REQUEST_DEADLINE_SECONDS);
        }
        int code = commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args);
        System.exit(code);
    }

    /** The factory tests use: every subcommand registered, output and errors to the given writers. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        ConvBertCli root = new ConvBertCli();
        CommandLine cl = new CommandLine(root);
        ServiceLoader.load(SubcommandProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .flatMap(p -> p.commands().stream())
                .sorted(Comparator.comparing(c -> c.getClass().getAnnotation(Command.class).name()))
                .forEach(cl::addSubcommand);
        cl.setOut(out);
        cl.setErr(err);
        // the terminal's width when there is one, else 120 columns: the examples are whole command lines
        cl.setUsageHelpWidth(HELP_WIDTH);
        cl.setUsageHelpAutoWidth(true);
        cl.setExitCodeExceptionMapper(ConvBertCli::exitCode);
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("error: " + ex.getMessage());
            ex.getCommandLine().getErr().println("see 'convbert " + ex.getCommandLine().getCommandName() + " --help'");
            return ExitCodes.INVALID_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter e = commandLine.getErr();
            int code = exitCode(ex);
            if (ex instanceof RunInterruptedException) {
                e.println(ex.getMessage());   // asked for, and saved: not an error
                e.flush();
                return code;
            }
            e.println("error: " + message(ex));
            if (code == ExitCodes.INTERNAL_ERROR) {
                e.println("This is a bug in convbert; rerun with --verbose and open an issue with the output.");
            }
            if (root.verbose) {
                ex.printStackTrace(e);
            }
            e.flush();
            return code;
        });
        return cl;
    }

    /**
     * The one map from failures to exit codes: the user's input ({@link InvalidInputException}, a bad option, a
     * missing input file) 2; the machine or the run ({@link CommandFailedException}, I/O) 1; a stop asked for by a
     * signal 128 + its number; anything else — an IllegalArgumentException or IllegalStateException included — is a
     * bug in this program, 4.
     */
    static int exitCode(Throwable ex) {
        if (ex instanceof RunInterruptedException r) {
            return r.exitCode();
        }
        if (ex instanceof CommandLine.ParameterException || ex instanceof InvalidInputException
                || ex instanceof java.nio.file.NoSuchFileException) {
            return ExitCodes.INVALID_INPUT;
        }
        if (ex instanceof IOException || ex instanceof UncheckedIOException || ex instanceof CommandFailedException) {
            return ExitCodes.FAILURE;
        }
        return ExitCodes.INTERNAL_ERROR;
    }

    private static String message(Throwable ex) {
        if (ex instanceof java.nio.file.NoSuchFileException n) {
            return n.getFile() + ": no such file";
        }
        return ex.getMessage() == null ? ex.toString() : ex.getMessage();
    }
}
