package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ExportFiles;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.RunSettings;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What {@code convbert optimize} leaves for people: the winner's card entry, optimize.md and optimize.png. */
final class OptimizeReport {
    static final String MARKDOWN = "optimize.md";
    static final String CHART = "optimize.png";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OptimizeReport() {}

    /**
     * The gated candidate's files under the winner's name: the same bytes (not a re-export, which static int8 would
     * have to calibrate again), sidecars renamed, the card's file names rewritten; the .onnx lands last.
     */
    static void publish(Path candidate, Path winner) throws IOException {
        byte[] config = Files.readAllBytes(ExportFiles.config(candidate));
        AtomicFiles.write(ExportFiles.config(winner), out -> out.write(config));
        ObjectNode card = (ObjectNode) JSON.readTree(ExportFiles.card(candidate).toFile());
        card.put("model", winner.getFileName().toString());
        card.put("config", ExportFiles.config(winner).getFileName().toString());
        if (Files.isRegularFile(ExportFiles.vocab(candidate))) {
            byte[] vocab = Files.readAllBytes(ExportFiles.vocab(candidate));
            AtomicFiles.write(ExportFiles.vocab(winner), out -> out.write(vocab));
            card.put("vocab", ExportFiles.vocab(winner).getFileName().toString());
        } else {
            Files.deleteIfExists(ExportFiles.vocab(winner));
        }
        AtomicFiles.writeString(ExportFiles.card(winner), JSON.writeValueAsString(card) + "\n");
        AtomicFiles.write(winner, out -> Files.copy(candidate, out));
    }

    /** The winner's settings in its card, where score, serve and spark-score look ({@link RunSettings}). */
    static void recordInCard(Path onnx, OptimizeCandidate.Setting best, ExecutionProvider provider, int cores,
                             String objective, Path state) throws IOException {
        Path card = ExportFiles.card(onnx);
        ObjectNode c = (ObjectNode) JSON.readTree(card.toFile());
        ObjectNode s = c.putObject(RunSettings.CARD_KEY);
        s.put("provider", provider.name());
        s.put("workers", best.workers());
        s.put("intra_op_threads", best.threads());
        s.put("cores", cores);
        s.put("objective", objective);
        s.put("export", best.candidate().name());
        if (best.candidate().trtFp16()) {
            s.put("provider_options", "--trt-fp16 (pass it to score and serve: the engine precision is the runtime's choice)");
        }
        s.put("chosen_by", "convbert optimize; every candidate in " + state.getFileName() + " beside this card");
        AtomicFiles.writeString(card, JSON.writeValueAsString(c) + "\n");
    }

    static void write(Path output, ObjectNode state, OptimizeRanking ranking, String exportName) throws IOException {
        AtomicFiles.writeString(output.resolve(MARKDOWN), markdown(state, ranking, exportName));
        chart(output.resolve(CHART), ranking);
    }

    static String markdown(ObjectNode state, OptimizeRanking ranking, String exportName) {
        JsonNode f = state.path("fingerprint");
        JsonNode w = state.path("winner");
        StringBuilder md = new StringBuilder("# convbert optimize\n\n");
        md.append(String.format(Locale.ROOT, "Winner: **%s** → `%s` (%s). Task %s, provider `%s`, %d threads, objective %s, "
                        + "measured %s; %d session%s.%n%n", w.path("setting").asText(), w.path("file").asText(),
                w.path("why").asText(), f.path("task").asText(), f.path("provider").asText(), f.path("cores").asInt(),
                w.path("objective").asText(), f.path("measure").asText(), state.path("sessions").asInt(),
                state.path("sessions").asInt() == 1 ? "" : "s (resumed; each shape or round measured in one)"));
        md.append("score, serve and spark-score read the winner's workers and threads from `").append(exportName)
                .append(".card.json` (`").append(RunSettings.CARD_KEY).append("`) unless --workers is given.\n\n");
        md.append("## Candidates and their gates\n\n| export | what | size | gate |\n|---|---|---|---|\n");
        state.path("candidates").fields().forEachRemaining(e -> md.append(String.format(Locale.ROOT, "| %s | %s | %.1f MB | %s%s |%n",
                e.getKey(), cell(e.getValue().path("description").asText()), e.getValue().path("bytes").asLong() / 1e6,
                e.getValue().path("gate").path("passed").asBoolean() ? "" : "**never timed, never chosen**: ",
                cell(e.getValue().path("gate").path("report").asText()))));
        List<String> units = new ArrayList<>();
        state.path("measured").forEach(u -> units.add(u.asText()));
        boolean real = state.has("real_data");
        md.append("\n## Settings\n\n");
        if (real) {
            JsonNode rd = state.path("real_data");
            List<String> splits = new ArrayList<>();
            rd.path("tasks").fields().forEachRemaining(e -> splits.add(String.format(Locale.ROOT, "%s %s (%d rows)",
                    e.getKey(), e.getValue().path("split").asText(), e.getValue().path("rows").asInt())));
            md.append(String.format(Locale.ROOT, "%s, cut at %d tokens, %s; examples/s per round; per split the median, "
                    + "then the geometric mean over the splits, ranks.%n%n", String.join(", ", splits),
                    rd.path("max_length").asInt(), rd.path("batching").asText()));
        } else {
            md.append("Per shape: p50 / p90 ms of one pass, and sequences/s over the wall time of every run (passes at "
                    + "once overlap). p90 needs 10 runs.\n\n");
        }
        md.append("| setting | workers × threads |");
        units.forEach(u -> md.append(' ').append(u).append(" |"));
        md.append(" speed-up over ").append(ranking.reference()).append(" | why |\n|---|---|");
        units.forEach(u -> md.append("---|"));
        md.append("---|---|\n");
        JsonNode timings = state.path("timings");
        for (OptimizeRanking.Entry e : ranking.entries()) {
            OptimizeCandidate.Setting s = e.setting();
            md.append("| ").append(s.name()).append(" | ").append(s.workers()).append(" × ").append(s.threads()).append(" |");
            for (String u : units) {
                JsonNode t = timings.path(s.name()).path(u);
                md.append(' ').append(real ? String.format(Locale.ROOT, "%.1f", t.asDouble())
                        : t.has("failed") ? "failed" : String.format(Locale.ROOT, "%s / %s ms, %.1f seq/s",
                        ms(t.path("p50_ms")), ms(t.path("p90_ms")), t.path("sequences_per_s").asDouble())).append(" |");
            }
            md.append(Double.isNaN(e.speedUp()) ? " – |" : String.format(Locale.ROOT, " %.2f× |", e.speedUp()))
                    .append(' ').append(cell(ranking.why(s))).append(" |\n");
        }
        if (real) {
            OptimizeRanking.Entry best = ranking.entries().get(0);
            md.append("\nThe winner against the ").append(OptimizeCommand.BASELINE).append(" (same rounds, medians):\n\n")
                    .append("| dev split | baseline examples/s | winner examples/s | speed-up |\n|---|---|---|---|\n");
            for (String task : OptimizeRanking.tasks(units)) {
                double base = OptimizeRanking.medianOver(timings.path(OptimizeCommand.BASELINE), units, task);
                double won = OptimizeRanking.medianOver(timings.path(best.setting().name()), units, task);
                md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | **%.2f×** |%n", task, base, won, won / base));
            }
        }
        md.append("\n## Not candidates\n\nfloat16 runs on GPU providers only: on CPUs ONNX Runtime emulates half-precision "
                + "kernels.\n");
        return md.toString();
    }

    /** Text for a table cell: a bare | would end the cell. */
    private static String cell(String text) {
        return text.replace("|", "\\|");
    }

    private static String ms(JsonNode v) {
        return v.isNull() || v.isMissingNode() ? "–" : String.format(Locale.ROOT, "%.2f", v.asDouble());
    }

    private static void chart(Path png, OptimizeRanking ranking) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (OptimizeRanking.Entry e : ranking.entries()) {
            if (!Double.isNaN(e.speedUp())) {
                data.addValue(e.speedUp(), "speed-up", e.setting().name());
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("convbert optimize: speed-up over " + ranking.reference()
                + " (gate-passing settings)", "setting", "× " + ranking.reference(), data, PlotOrientation.HORIZONTAL,
                false, false, false);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeBufferedImageAsPNG(bytes, chart.createBufferedImage(900, 160 + 40 * data.getColumnCount()));
        AtomicFiles.write(png, out -> out.write(bytes.toByteArray()));
    }
}
