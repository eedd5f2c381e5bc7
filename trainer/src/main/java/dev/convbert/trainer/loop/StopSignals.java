package dev.convbert.trainer.loop;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * SIGINT (Ctrl-C) and SIGTERM (Kubernetes, Slurm, spot reclaim) as a {@link StopRequest}, for the length of a training
 * command. The JVM's own handling of them runs the exit path at once; with the main thread inside a libtorch call
 * that tears the library down under it (SIGSEGV, an hs_err file, the progress since the last checkpoint lost). Here
 * the first signal only asks the loop to stop after the step in flight and save; a second one ends the process at
 * once by the signal's default action, which runs nothing (no exit hooks, no native destructors) and leaves the last
 * complete checkpoint as it is — the same for the disk as a kill -9, with the signal's own exit status.
 *
 * <p>A signal that was ignored when the process started (nohup, a background job of a non-interactive shell) stays
 * ignored, as the JVM keeps it.
 */
public final class StopSignals implements StopRequest, AutoCloseable {
    private static final List<String> SIGNALS = List.of("INT", "TERM");

    private final AtomicReference<Reason> first = new AtomicReference<>();
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private StopSignals() {}

    /** Takes over SIGINT and SIGTERM until {@link #close()}, which gives them back. */
    public static StopSignals install() {
        StopSignals s = new StopSignals();
        for (String name : SIGNALS) {
            Signal signal = new Signal(name);
            s.previous.put(signal, Signal.handle(signal, s::handle));
        }
        return s;
    }

    @Override
    public Optional<Reason> requested() {
        return Optional.ofNullable(first.get());
    }

    private void handle(Signal signal) {
        Reason reason = new Reason("SIG" + signal.getName(), 128 + signal.getNumber());
        if (first.compareAndSet(null, reason)) {
            System.err.println(System.lineSeparator() + reason.name() + ": stopping after the step in flight to save a "
                    + "checkpoint; send it again to exit at once (the last complete checkpoint stays)");
            return;
        }
        System.err.println(System.lineSeparator() + reason.name() + " again: exiting now");
        System.err.flush();
        Signal.handle(signal, SignalHandler.SIG_DFL);
        try {
            // the JDK raises only signals that have a Java handler; kill(1) delivers it under the default action
            new ProcessBuilder("kill", "-s", signal.getName(), Long.toString(ProcessHandle.current().pid()))
                    .inheritIO().start().waitFor();
        } catch (IOException | InterruptedException e) {
            // no kill(1): fall through
        }
        Runtime.getRuntime().halt(reason.exitCode());
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
