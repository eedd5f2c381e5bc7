package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.Batching;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Scoring throughput on real GLUE dev splits, where sentence lengths vary: the same model, the same rows, three ways of
 * cutting them into forward passes, measured in one run with the order of the three rotating between rounds.
 * <ul>
 *   <li>{@code dataset-order}: rows as the file lists them, 32 a pass, padded to the pass's longest — what HF's
 *       pipelines and a plain DataLoader with a padding collator do (the baseline);</li>
 *   <li>{@code sorted}: rows in ascending length, 32 a pass ({@code score}'s batching with {@code --max-batch-tokens 0});</li>
 *   <li>{@code token-budget}: rows in ascending length, as many a pass as fit a padded-token budget (up to 256);</li>
 *   <li>{@code sorted-X}: as {@code sorted}, on the {@link Variant}s — the other exports of the same weights (int8,
 *       ONNX Runtime's contrib operators, both) that were measured and passed their gates, and sessions that run
 *       several passes at once ({@code score --workers}).</li>
 * </ul>
 * Tokenisation happens once, before timing: the rates are the model's. Every batching must give the baseline's answers
 * (a padding-invariant model's logits do not depend on their company; an HF-semantics model's do, so sorted batchings
 * run only rows of equal length together and the agreement is reported, not assumed).
 */
final class RealDataBenchmark {
    static final int BASELINE_ROWS = 32;
    static final int BUDGET_MAX_ROWS = 256;
    private static final List<String> FP32_MODES = List.of("dataset-order", "sorted", "token-budget");

    private RealDataBenchmark() {}

    /** Another way to run the same weights in sorted passes: mode {@code "sorted-" + name}, {@code workers} passes at once. */
    record Variant(String name, Predictor predictor, int workers) {}

    static ObjectNode run(Predictor model, List<Variant> variants, Path vocab, Path dataDir, List<GlueTask> tasks,
                          int rounds, int tokenBudget, ObjectMapper mapper) throws IOException {
        List<String> modes = new ArrayList<>(FP32_MODES);
        Map<String, Variant> sortedOn = new LinkedHashMap<>();
        for (Variant v : variants) {
            modes.add("sorted-" + v.name());
            sortedOn.put("sorted-" + v.name(), v);
        }
        BertTokenizer tokenizer = new BertTokenizer(Vocab.read(vocab));
        int maxLength = Math.min(128, model.config().maxPositionEmbeddings());
        ObjectNode out = mapper.createObjectNode();
        out.put("rounds", rounds);
        out.put("token_budget", tokenBudget);
        out.put("max_seq_length", maxLength);
        out.put("padding_invariant", model.config().paddingInvariant());
        out.set("modes", mapper.valueToTree(modes));
        ArrayNode rows = out.putArray("tasks");
        for (GlueTask task : tasks) {
            String split = task.devSplits().get(0).name();
            List<GlueExample> examples = GlueReader.read(dataDir, task, split);
            List<Encoding> enc = BatchRunner.encode(tokenizer, examples, maxLength);
            double[][] rates = new double[modes.size()][rounds];
            float[][][] logits = new float[modes.size()][][];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < modes.size(); k++) {
                    int m = (k + r) % modes.size();                 // rotate, so no batching always runs first
                    long t0 = System.nanoTime();
                    Variant other = sortedOn.get(modes.get(m));
                    logits[m] = other != null
                            ? BatchRunner.logits(other.predictor(), enc, Batching.rows(BASELINE_ROWS), null, other.workers())
                            : score(model, enc, modes.get(m), tokenBudget);
                    rates[m][r] = enc.size() / ((System.nanoTime() - t0) / 1e9);
                }
            }
            ObjectNode row = rows.addObject().put("task", task.id()).put("split", split).put("examples", enc.size())
                    .put("mean_tokens", enc.stream().mapToInt(Encoding::length).average().orElse(0));
            double baseline = LatencyCell.median(rates[0]);
            for (int m = 0; m < modes.size(); m++) {
                ObjectNode mode = row.putObject(modes.get(m));
                mode.put("examples_per_s", LatencyCell.median(rates[m]));
                mode.set("examples_per_s_rounds", mapper.valueToTree(rates[m]));
                mode.put("speedup", LatencyCell.median(rates[m]) / baseline);
                mode.put("padded_tokens", paddedTokens(enc, modes.get(m).startsWith("sorted") ? "sorted" : modes.get(m), tokenBudget,
                        model.config().paddingInvariant()));
                mode.put("max_abs_logit_diff_vs_baseline", LogitDiff.max(logits[0], logits[m]));
                mode.put("argmax_agreement_vs_baseline", agreement(logits[0], logits[m]));
            }
            row.put("real_tokens", enc.stream().mapToLong(Encoding::length).sum());
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "real data %-6s %s: %d examples, %.1f tokens on "
                    + "average; examples/s dataset-order %.1f", task.glueName(), split, enc.size(), row.get("mean_tokens").asDouble(),
                    baseline));
            for (int m = 1; m < modes.size(); m++) {
                line.append(String.format(Locale.ROOT, ", %s %.1f (%.2f×)", modes.get(m), LatencyCell.median(rates[m]), LatencyCell.median(rates[m]) / baseline));
            }
            System.out.println(line);
        }
        return out;
    }

    static float[][] score(Predictor model, List<Encoding> enc, String mode, int tokenBudget) {
        return switch (mode) {
            case "dataset-order" -> datasetOrder(model, enc);
            case "sorted" -> BatchRunner.logits(model, enc, Batching.rows(BASELINE_ROWS), null);
            case "token-budget" -> BatchRunner.logits(model, enc, new Batching(BUDGET_MAX_ROWS, tokenBudget), null);
            default -> throw new IllegalArgumentException(mode);
        };
    }

    /** Consecutive rows, {@value #BASELINE_ROWS} a pass, padded to the pass's longest, whatever the model's semantics. */
    private static float[][] datasetOrder(Predictor model, List<Encoding> enc) {
        float[][] out = new float[enc.size()][];
        for (int start = 0; start < enc.size(); start += BASELINE_ROWS) {
            List<Encoding> pass = enc.subList(start, Math.min(enc.size(), start + BASELINE_ROWS));
            float[][] logits = PaddedBatch.of(pass).run(model, false).logits();
            System.arraycopy(logits, 0, out, start, logits.length);
        }
        return out;
    }

    /** Σ rows × longest over the passes a batching makes: the work it asks for. */
    static long paddedTokens(List<Encoding> enc, String mode, int tokenBudget, boolean invariant) {
        if (mode.equals("dataset-order")) {
            long total = 0;
            for (int start = 0; start < enc.size(); start += BASELINE_ROWS) {
                int end = Math.min(enc.size(), start + BASELINE_ROWS);
                total += (long) (end - start) * enc.subList(start, end).stream().mapToInt(Encoding::length).max().orElse(0);
            }
            return total;
        }
        Batching b = mode.equals("sorted") ? Batching.rows(BASELINE_ROWS) : new Batching(BUDGET_MAX_ROWS, tokenBudget);
        long total = 0;
        for (List<Integer> pass : BatchRunner.passes(enc, b, invariant)) {
            total += (long) pass.size() * pass.stream().mapToInt(i -> enc.get(i).length()).max().orElse(0);
        }
        return total;
    }

    static String summary(JsonNode realData) {
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "%n## Real GLUE dev data%n%nThe fused export scoring "
                        + "whole dev splits (tokenised beforehand), median of %d rounds with the batchings' order rotating. "
                        + "dataset-order: file order, %d rows a pass padded to the longest (HF pipelines); sorted: ascending "
                        + "length, %d rows; token-budget: ascending length, up to %d rows within %d padded tokens; "
                        + "sorted-X: sorted, on export X of the same weights; …-N-workers: N passes at once on 1/N of the "
                        + "threads each (score --workers).%n%n",
                realData.get("rounds").asInt(), BASELINE_ROWS, BASELINE_ROWS, BUDGET_MAX_ROWS, realData.get("token_budget").asInt()));
        md.append("| task | examples | mean tokens | batching | examples/s | speed-up | padded tokens | max |Δlogit| vs dataset-order | argmax agreement |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (JsonNode t : realData.get("tasks")) {
            for (JsonNode modeName : realData.get("modes")) {
                String mode = modeName.asText();
                JsonNode m = t.get(mode);
                md.append(String.format(Locale.ROOT, "| %s %s | %d | %.1f | %s | %.1f | %.2f× | %d | %.1e | %.4f |%n",
                        t.get("task").asText(), t.get("split").asText(), t.get("examples").asInt(), t.get("mean_tokens").asDouble(),
                        mode, m.get("examples_per_s").asDouble(), m.get("speedup").asDouble(), m.get("padded_tokens").asLong(),
                        m.get("max_abs_logit_diff_vs_baseline").asDouble(), m.get("argmax_agreement_vs_baseline").asDouble()));
            }
        }
        return md.toString();
    }

    private static double agreement(float[][] a, float[][] b) {
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += argmax(a[i]) == argmax(b[i]) ? 1 : 0;
        }
        return a.length == 0 ? 1 : (double) same / a.length;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
