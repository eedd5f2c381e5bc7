package dev.convbert.runtime.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ExportFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How an export runs: forward passes at once ({@code --workers}) and ONNX Runtime intra-op threads per pass. Decided
 * in one place for score, serve and spark-score: {@code --workers} when given; else what {@code convbert optimize}
 * measured best on this provider, recorded in the export's card ({@code NAME.card.json}, key {@value #CARD_KEY});
 * else the default ({@link OrtModel#concurrentPasses(ExecutionProvider)}).
 *
 * @param source where the numbers came from, for the console and results JSON
 */
public record RunSettings(int workers, int threadsPerPass, String source) {
    /** The card's object that {@code convbert optimize} writes for its winner. */
    public static final String CARD_KEY = "run_settings";

    /** What optimize recorded: the provider it measured on, passes at once and threads each on a machine of {@code cores}. */
    public record Recorded(String provider, int workers, int threadsPerPass, int cores, String objective) {}

    /**
     * @param workersOption {@code --workers}, or null
     * @param cores         the intra-op threads this process may use in all ({@link OrtModel#threads()}, an executor's cores)
     */
    public static RunSettings resolve(Path onnx, ExecutionProvider provider, Integer workersOption, int cores) {
        if (workersOption != null) {
            if (workersOption < 1) {
                throw new InvalidInputException("--workers " + workersOption + ": expected 1 or more");
            }
            return new RunSettings(workersOption, OrtModel.threadsPerPass(cores, workersOption), "--workers");
        }
        Optional<Recorded> recorded = recorded(onnx);
        if (recorded.isPresent() && recorded.get().provider().equals(provider.name())) {
            Recorded r = recorded.get();
            // the threads optimize measured, where this machine has as many cores; else the same split of these cores
            int threads = r.cores() == cores ? r.threadsPerPass() : OrtModel.threadsPerPass(cores, r.workers());
            return new RunSettings(r.workers(), threads, ExportFiles.card(onnx).getFileName() + " (convbert optimize, "
                    + r.objective() + ")");
        }
        int passes = provider.name().equals("cpu") ? OrtModel.concurrentPasses(cores) : 1;
        return new RunSettings(passes, OrtModel.threadsPerPass(cores, passes), "default");
    }

    /**
     * The settings optimize recorded for {@code onnx}; empty when its card has none, or when the card describes another
     * file (its sha256 differs: the .onnx was replaced after optimize chose it).
     */
    public static Optional<Recorded> recorded(Path onnx) {
        Path card = ExportFiles.card(onnx);
        if (!Files.isRegularFile(card)) {
            return Optional.empty();
        }
        try {
            JsonNode c = new ObjectMapper().readTree(card.toFile());
            JsonNode s = c == null ? null : c.get(CARD_KEY);
            if (s == null || !s.isObject() || !Hashing.sha256(onnx).equals(c.path("sha256").asText())) {
                return Optional.empty();
            }
            return Optional.of(new Recorded(s.path("provider").asText("cpu"), Math.max(1, s.path("workers").asInt(1)),
                    Math.max(1, s.path("intra_op_threads").asInt(1)), s.path("cores").asInt(0),
                    s.path("objective").asText("measured")));
        } catch (IOException e) {
            return Optional.empty();   // a card another tool damaged: the defaults apply, as without one
        }
    }

    public String describe() {
        return workers + (workers == 1 ? " pass" : " passes") + " at once, " + threadsPerPass + " intra-op thread"
                + (threadsPerPass == 1 ? "" : "s") + " each; from " + source;
    }
}
