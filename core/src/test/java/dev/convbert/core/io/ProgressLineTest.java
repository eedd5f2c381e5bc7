package dev.convbert.core.io;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressLineTest {
    private static final Pattern BAR = Pattern.compile("^finetune sst-2 +(\\d+)% \\[([= ]*)\\] (\\d+)/2000 step \\((\\d+:\\d\\d:\\d\\d) / ([?\\d:]+)\\) ");

    /** The bar keeps its column and width while the counts, the rate and the message after it change length. */
    @Test
    void theBarKeepsItsWidthFromLineToLine() {
        List<String> lines = new ArrayList<>();
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("finetune sst-2").setInitialMax(2000)
                .setRenderer(new ProgressLine("step")).setMaxRenderedLength(Progress.MAX_LINE)
                .setUpdateIntervalMillis(60_000).setConsumer(new DelegatingProgressBarConsumer(lines::add, Progress.MAX_LINE))
                .build()) {
            for (long to : new long[]{0, 7, 150, 999, 2000}) {
                bar.stepTo(to);
                bar.setExtraMessage(to == 999 ? " · loss 0.6931 lr 1.00e-04 1234 ex/s 56789 tok/s" : " · loss 1");
                bar.refresh();
            }
        }
        assertTrue(lines.size() >= 5, lines.toString());
        int open = -1;
        for (String line : lines) {
            Matcher m = BAR.matcher(line);
            assertTrue(m.find(), line);
            assertEquals(ProgressLine.BAR, m.group(2).length(), line);
            open = open < 0 ? line.indexOf('[') : open;
            assertEquals(open, line.indexOf('['), "the bar starts in the same column: " + lines);
            long done = Long.parseLong(m.group(3));
            assertEquals((int) (ProgressLine.BAR * done / 2000), m.group(2).chars().filter(c -> c == '=').count(), line);
        }
        assertTrue(lines.get(lines.size() - 1).contains("100% [" + "=".repeat(ProgressLine.BAR) + "] 2000/2000 step"),
                lines.get(lines.size() - 1));
    }

    @Test
    void anUnknownTotalHasNoBar() {
        List<String> lines = new ArrayList<>();
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("build-data").setInitialMax(-1)
                .setRenderer(new ProgressLine("docs")).setUpdateIntervalMillis(60_000)
                .setConsumer(new DelegatingProgressBarConsumer(lines::add, Progress.MAX_LINE)).build()) {
            bar.stepTo(42);
            bar.refresh();
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("build-data 42 docs (") && !l.contains("[")), lines.toString());
    }

    /** Not a terminal: the close's re-render of the finished state is not a second line, though its rate moved. */
    @Test
    void aLogGetsTheFinishedStateOnce() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
             Progress p = Progress.start("SST-2 dev", 6, "ex", out)) {
            Thread.sleep(20);   // a rate that differs between the last update and the close's render
            p.step(6);
        }
        String log = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, log.lines().filter(l -> l.contains("100% [")).count(), log);
    }

    @Test
    void clock() {
        assertEquals("1:02:03", ProgressLine.clock(java.time.Duration.ofSeconds(3723)));
    }
}
