package dev.convbert.core.io;

import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressState;

import java.time.Duration;
import java.util.Locale;

/**
 * One progress line — "task  45% [=============                 ] 9/20 step (0:00:02 / 0:00:03) 4.5 step/s · extra" —
 * whose bar is always {@value #BAR} characters: progressbar's own renderer gives the bar what the numbers leave of
 * the line, so it grew and shrank between lines as the ETA and the rate changed length.
 */
final class ProgressLine implements ProgressBarRenderer {
    static final int BAR = 30;

    private final String unit;

    ProgressLine(String unit) {
        this.unit = unit;
    }

    @Override
    public String render(ProgressState s, int maxLength) {
        long current = s.getCurrent();
        long max = s.getMax();
        boolean known = !s.isIndefinite() && max > 0;
        StringBuilder line = new StringBuilder(s.getTaskName());
        if (known) {
            double done = Math.min(1.0, (double) current / max);
            int filled = (int) Math.floor(BAR * done);
            line.append(String.format(Locale.ROOT, " %3d%% [", (int) Math.floor(100 * done)))
                    .append("=".repeat(filled)).append(" ".repeat(BAR - filled)).append(']');
        }
        line.append(' ').append(current).append(known ? "/" + max : "").append(' ').append(unit);
        double seconds = s.getElapsedAfterStart().toMillis() / 1000.0;
        double rate = seconds > 0 ? (current - s.getStart()) / seconds : Double.NaN;
        String eta = !known ? "?" : current >= max ? clock(Duration.ZERO)
                : rate > 0 ? clock(Duration.ofMillis((long) ((max - current) / rate * 1000))) : "?";
        line.append(" (").append(clock(s.getTotalElapsed())).append(" / ").append(eta).append(") ")
                .append(rate > 0 ? String.format(Locale.ROOT, "%.1f", rate) : "?").append(' ').append(unit).append("/s");
        String extra = s.getExtraMessage();
        if (extra != null && !extra.isEmpty()) {
            line.append(extra);
        }
        return line.length() > maxLength ? line.substring(0, maxLength) : line.toString();
    }

    static String clock(Duration d) {
        long s = Math.max(0, d.getSeconds());
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
