package dev.convbert.core.io;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

import java.io.PrintStream;

/**
 * A progress bar on stderr with count, rate and ETA (me.tongfei:progressbar, chosen because it is small, has no
 * dependencies but JLine, and degrades to plain lines when stderr is not a terminal).
 */
public final class Progress implements AutoCloseable {
    /** The longest line drawn; a narrower terminal gets its own width. */
    static final int MAX_LINE = 140;

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** {@code total} may be -1 when unknown. */
    public static Progress start(String task, long total, String unit) {
        return start(task, total, unit, System.err);
    }

    public static Progress start(String task, long total, String unit, PrintStream out) {
        ProgressBarBuilder b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setRenderer(new ProgressLine(unit))
                .setMaxRenderedLength(MAX_LINE);
        if (System.console() != null) {
            b.setUpdateIntervalMillis(500).continuousUpdate().setConsumer(new ConsoleProgressBarConsumer(out));
        } else {
            // a log file or CI: one plain line every 10 s instead of carriage-return redraws; the bar's close
            // re-renders its last state, which is not printed again when only the rate moved since
            String[] last = {null};
            b.setUpdateIntervalMillis(10_000).setConsumer(new DelegatingProgressBarConsumer(line -> {
                String state = line.substring(0, line.indexOf(')') + 1);
                if (!state.equals(last[0])) {
                    out.println(line);
                    last[0] = state;
                }
            }, MAX_LINE));
        }
        return new Progress(b.build());
    }

    public void step(long n) {
        bar.stepBy(n);
    }

    /** Text after the rate ("loss 0.69 lr 1e-4"), set apart from it. */
    public void extra(String message) {
        bar.setExtraMessage(" · " + message);
    }

    @Override
    public void close() {
        bar.close();
    }
}
