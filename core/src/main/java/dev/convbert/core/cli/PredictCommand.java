package dev.convbert.core.cli;

import dev.convbert.core.io.Progress;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.OutputPaths;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.TextPair;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code convbert predict}: JSONL in, logits (and hidden states) out, for a model directory (DJL) or an exported
 * {@code .onnx} (ONNX Runtime) alike.
 *
 * <p>Texts are tokenised with the model's vocabulary and, for padding-invariant models, batched with padding to the
 * longest row. For HF-semantics models padding would change the answers, so only rows of equal length share a batch —
 * a text's output then equals its batch-size-1 output. Id lines run exactly as given: never padded, batched only with
 * rows of the same length.
 */
@Command(name = "predict",
        description = "Run a model on JSONL lines and write {\"logits\": […]} per line; for an encoder without a "
                + "classification head (pre-trained or converted), {\"first_token\": […], \"last_hidden_state\": "
                + "[[…]…]}. Input lines: {\"text_a\": …, \"text_b\": …} or {\"input_ids\": […], \"token_type_ids\": "
                + "[…], \"attention_mask\": […]}; \"id\", \"idx\", \"guid\" and \"label\" are copied to the line's "
                + "output unchanged.",
        footer = "  convbert predict --model runs/sst2/best --input in.jsonl --output out.jsonl")
public final class PredictCommand implements Callable<Integer> {
    private static final Set<String> TEXT_FIELDS = Set.of("text_a", "text_b");
    private static final Set<String> ID_FIELDS = Set.of("input_ids", "token_type_ids", "attention_mask");
    /** Fields that identify or label a row: copied to its output line unchanged (GLUE's and HF datasets' names). */
    private static final Set<String> PASS_THROUGH = Set.of("id", "idx", "guid", "label");

    @Option(names = "--input", required = true, description = "JSON lines of texts or of ids, as above.")
    Path input;

    @Option(names = "--output", required = true, description = "Output JSONL, one line per input line (written atomically).")
    Path output;

    @Option(names = "--hidden-states", description = "Also write last_hidden_state [L][hidden] for every position (always, for an encoder).")
    boolean hiddenStates;

    @picocli.CommandLine.Mixin
    PredictorOptions options = new PredictorOptions();

    /** One input line, encoded. */
    private record Row(long[] ids, long[] types, long[] mask, boolean fromText, ObjectNode kept) {}

    @Override
    public Integer call() throws IOException {
        int batchSize = options.batchSize();
        Path model = options.model();
        OutputPaths.requireNotAnInput("--output", output, input);
        ObjectMapper json = new ObjectMapper();
        long bytes = Files.size(input);
        try (Predictor predictor = options.open()) {
            ScoringModel scoring = ScoringModel.any(predictor, options.spec());
            boolean invariant = predictor.config().paddingInvariant();
            int limit = scoring.maxLength();
            AtomicFiles.write(output, out -> {
                Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                try (BufferedReader r = Files.newBufferedReader(input, StandardCharsets.UTF_8);
                     Progress progress = Progress.start("predict", bytes, "B")) {
                    List<Row> pending = new ArrayList<>();
                    String line;
                    long lineNo = 0;
                    while ((line = readLine(r, lineNo + 1)) != null) {
                        lineNo++;
                        progress.step(line.getBytes(StandardCharsets.UTF_8).length + 1L);
                        if (line.isBlank()) {
                            continue;
                        }
                        Row row = parse(json, line, lineNo, scoring, limit);
                        if (!pending.isEmpty() && (pending.size() == batchSize || !fits(pending, row, invariant))) {
                            flush(predictor, pending, json, w);
                        }
                        pending.add(row);
                    }
                    if (!pending.isEmpty()) {
                        flush(predictor, pending, json, w);
                    }
                }
                w.flush();
            });
        }
        return ExitCodes.OK;
    }

    /** Whether {@code row} may join the batch: same length, or texts of a padding-invariant model. */
    private static boolean fits(List<Row> batch, Row row, boolean invariant) {
        Row first = batch.get(0);
        if (first.ids.length == row.ids.length) {
            return true;
        }
        return invariant && first.fromText && row.fromText;
    }

    private void flush(Predictor predictor, List<Row> batch, ObjectMapper json, Writer w) throws IOException {
        int b = batch.size();
        PaddedBatch padded = PaddedBatch.ofRows(batch.stream().map(Row::ids).toList(), batch.stream().map(Row::types).toList(),
                batch.stream().map(Row::mask).toList());
        boolean encoder = !predictor.hasClassificationHead();
        Predictor.Output out = padded.run(predictor, hiddenStates || encoder);
        for (int i = 0; i < b; i++) {
            ObjectNode o = batch.get(i).kept.deepCopy();
            if (encoder) {
                ArrayNode first = o.putArray("first_token");
                for (float v : out.lastHiddenState()[i][0]) {
                    first.add(v);
                }
            } else {
                ArrayNode logits = o.putArray("logits");
                for (float v : out.logits()[i]) {
                    logits.add(v);
                }
            }
            if (hiddenStates || encoder) {
                ArrayNode h = o.putArray("last_hidden_state");
                int rowLen = batch.get(i).ids.length;
                for (int l = 0; l < rowLen; l++) {
                    ArrayNode pos = h.addArray();
                    for (float v : out.lastHiddenState()[i][l]) {
                        pos.add(v);
                    }
                }
            }
            w.write(json.writeValueAsString(o));
            w.write('\n');
        }
        batch.clear();
    }

    private Row parse(ObjectMapper json, String line, long lineNo, ScoringModel scoring, int limit) {
        Predictor predictor = scoring.predictor();
        String where = input + ":" + lineNo;
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(where + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new InvalidInputException(where + ": expected a JSON object");
        }
        if (node.has("input_ids")) {
            checkFields(node, ID_FIELDS, where);
            long[] ids = ids(node, "input_ids", where, null);
            long[] types = node.has("token_type_ids") ? ids(node, "token_type_ids", where, ids.length) : new long[ids.length];
            long[] mask = node.has("attention_mask") ? ids(node, "attention_mask", where, ids.length) : ones(ids.length);
            dev.convbert.core.predict.TokenRows.check(predictor.config(), ids, types, mask, where);
            return new Row(ids, types, mask, false, kept(node));
        }
        checkFields(node, TEXT_FIELDS, where);
        if (!node.has("text_a")) {
            throw new InvalidInputException(where + ": expected \"text_a\" (a string) or \"input_ids\"");
        }
        TextPair texts = TextPair.parse(node, where);
        Encoding e = texts.encode(scoring.tokenizer(), limit);     // the vocabulary is looked for at the first text
        long[] ids = new long[e.length()];
        long[] types = new long[e.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = e.inputIds()[i];
            types[i] = e.tokenTypeIds()[i];
        }
        return new Row(ids, types, ones(ids.length), true, kept(node));
    }

    private static ObjectNode kept(JsonNode node) {
        ObjectNode kept = JsonNodeFactory.instance.objectNode();
        PASS_THROUGH.stream().sorted().filter(node::has).forEach(f -> kept.set(f, node.get(f)));
        return kept;
    }

    private static void checkFields(JsonNode node, Set<String> allowed, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f) && !PASS_THROUGH.contains(f)) {
                throw new InvalidInputException(where + ": unknown field \"" + f + "\"; expected one of " + allowed
                        + ", and optionally " + new java.util.TreeSet<>(PASS_THROUGH) + " (copied to the output)");
            }
        }
    }

    private static long[] ids(JsonNode node, String field, String where, Integer expectedLength) {
        JsonNode arr = node.get(field);
        if (arr == null || !arr.isArray()) {
            throw new InvalidInputException(where + ": field \"" + field + "\" must be an array of integers");
        }
        if (expectedLength != null && arr.size() != expectedLength) {
            throw new InvalidInputException(where + ": field \"" + field + "\" has " + arr.size()
                    + " entries but input_ids has " + expectedLength);
        }
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            if (!arr.get(i).isIntegralNumber()) {
                throw new InvalidInputException(where + ": field \"" + field + "\"[" + i + "] is not an integer");
            }
            out[i] = arr.get(i).asLong();
        }
        return out;
    }

    private static long[] ones(int n) {
        long[] m = new long[n];
        java.util.Arrays.fill(m, 1);
        return m;
    }

    /** The next line, or an error naming the file and line when the bytes are not UTF-8. */
    private String readLine(BufferedReader r, long lineNo) throws IOException {
        try {
            return r.readLine();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new InvalidInputException(input + ":" + lineNo + ": not valid UTF-8; convert the file to UTF-8 first");
        }
    }
}
