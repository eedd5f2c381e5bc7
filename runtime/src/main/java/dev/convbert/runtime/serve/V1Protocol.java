package dev.convbert.runtime.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.predict.Softmax;
import dev.convbert.core.predict.TokenRows;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.TextPair;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /v1/predict}: {@code {"inputs": [{"text_a", "text_b"?} | {"input_ids", "token_type_ids"?,
 * "attention_mask"?}], "timeout_ms"?}} → {@code {"outputs": [{"logits", "label", "score", "probabilities", "scores"}]}}
 * (a regression model: {@code logits} and {@code score}); and KServe's V1 {@code :predict} over the same rows. Errors are {@code {"error", "field"?}} with 400 (bad input),
 * 413 (over a limit), 503 (queue full or not serving; the server adds Retry-After) or 504 (timed out in the queue).
 */
record V1Protocol(ObjectMapper json, BertTokenizer tokenizer, ServerOptions options, InferenceBackend backend) {
    private static final Set<String> REQUEST_FIELDS = Set.of("inputs", "timeout_ms");
    private static final Set<String> INPUT_FIELDS = Set.of("text_a", "text_b", "input_ids", "token_type_ids", "attention_mask");

    /** The answer to one request body (already read within the body limit). */
    Reply predict(byte[] body) {
        JsonNode req;
        try {
            req = parse(body);
        } catch (InvalidInputException ex) {
            return error(400, ex.getMessage(), null);
        }
        String unknown = unknownField(req, REQUEST_FIELDS);
        if (unknown != null) {
            return error(400, "unknown field \"" + unknown + "\"; expected " + REQUEST_FIELDS, unknown);
        }
        long timeout = options.defaultTimeoutMs();
        if (req.has("timeout_ms")) {
            if (!req.get("timeout_ms").canConvertToLong() || req.get("timeout_ms").asLong() <= 0) {
                return error(400, "\"timeout_ms\" must be a positive integer", "timeout_ms");
            }
            timeout = Math.min(req.get("timeout_ms").asLong(), options.maxTimeoutMs());
        }
        return run(req.get("inputs"), "inputs", timeout, "outputs");
    }

    /**
     * KServe's V1 protocol ({@code POST /v1/models/NAME:predict}): {@code {"instances": [...]}} of strings (one text)
     * or of the objects {@code /v1/predict} takes, answered {@code {"predictions": [...]}} with {@code /v1/predict}'s
     * output per instance.
     */
    Reply kservePredict(byte[] body) {
        JsonNode req;
        try {
            req = parse(body);
        } catch (InvalidInputException ex) {
            return error(400, ex.getMessage(), null);
        }
        String unknown = unknownField(req, Set.of("instances"));
        if (unknown != null) {
            return error(400, "unknown field \"" + unknown + "\"; KServe V1 takes {\"instances\": [...]}", unknown);
        }
        JsonNode instances = req.get("instances");
        if (instances != null && instances.isArray()) {
            ArrayNode inputs = json.createArrayNode();
            for (JsonNode i : instances) {
                inputs.add(i.isTextual() ? json.createObjectNode().put("text_a", i.asText()) : i);
            }
            instances = inputs;
        }
        return run(instances, "instances", options.defaultTimeoutMs(), "predictions");
    }

    private JsonNode parse(byte[] body) {
        JsonNode req;
        try {
            req = json.readTree(StrictUtf8.decode(body));
        } catch (JsonProcessingException ex) {
            throw new InvalidInputException("body is not valid JSON: " + ex.getOriginalMessage());
        }
        if (req == null || !req.isObject()) {
            throw new InvalidInputException("body must be a JSON object");
        }
        return req;
    }

    /** Validates and runs the {@code inputs} array (named {@code field} to the client); answers under {@code outputField}. */
    private Reply run(JsonNode inputs, String field, long timeout, String outputField) {
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            return error(400, "\"" + field + "\" must be a non-empty array of {\"text_a\": …, \"text_b\": …}", field);
        }
        if (inputs.size() > options.maxInputs()) {
            return error(413, inputs.size() + " " + field + " in one request; the limit is " + options.maxInputs(), field);
        }
        List<Encoding> rows = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode in = inputs.get(i);
            String where = field + "[" + i + "]";
            if (!in.isObject()) {
                return error(400, where + " must be an object", where);
            }
            String bad = unknownField(in, INPUT_FIELDS);
            if (bad != null) {
                return error(400, where + ": unknown field \"" + bad + "\"; expected " + INPUT_FIELDS, where + "." + bad);
            }
            try {
                if (in.has("input_ids") || in.has("token_type_ids") || in.has("attention_mask")) {
                    rows.add(idRow(in, where));
                    continue;
                }
                TextPair texts = TextPair.parse(in, where);
                if (texts.chars() > options.maxTextChars()) {
                    return error(413, where + ": " + texts.chars() + " characters; the limit is " + options.maxTextChars(), where);
                }
                rows.add(texts.encode(tokenizer, Math.min(options.maxLength(), backend.config().maxPositionEmbeddings())));
            } catch (InvalidInputException ex) {
                return error(400, ex.getMessage(), where);
            }
        }
        InferenceBackend.Result result = backend.infer(rows, timeout);
        if (result.error() != null) {
            return error(result.status(), result.error(), null);
        }
        ArrayNode outputs = json.createArrayNode();
        result.logits().forEach(l -> outputs.add(output(l)));
        ObjectNode res = json.createObjectNode();
        res.set(outputField, outputs);
        return new Reply(200, res);
    }

    /** One {@code {"input_ids", "token_type_ids"?, "attention_mask"?}} input (right-padded), checked against the config. */
    private Encoding idRow(JsonNode in, String where) {
        if (in.has("text_a") || in.has("text_b")) {
            throw new InvalidInputException(where + ": give text_a (and text_b) or input_ids (with token_type_ids,"
                    + " attention_mask), not both");
        }
        long[] ids = longs(in, "input_ids", where, -1);
        long[] types = in.has("token_type_ids") ? longs(in, "token_type_ids", where, ids.length) : null;
        long[] mask = in.has("attention_mask") ? longs(in, "attention_mask", where, ids.length) : null;
        return TokenRows.rightPadded(backend.config(), ids, types, mask, where);
    }

    private static long[] longs(JsonNode in, String field, String where, int length) {
        JsonNode a = in.get(field);
        if (a == null || !a.isArray()) {
            throw new InvalidInputException(where + ": \"" + field + "\" must be an array of integers");
        }
        if (length >= 0 && a.size() != length) {
            throw new InvalidInputException(where + ": \"" + field + "\" has " + a.size() + " entries but input_ids has " + length);
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!a.get(i).isIntegralNumber() || !a.get(i).canConvertToLong()) {
                throw new InvalidInputException(where + ": " + field + "[" + i + "] is not an integer");
            }
            out[i] = a.get(i).asLong();
        }
        return out;
    }

    /**
     * One row's answer: {@code logits} always; for a classifier also {@code label}, its probability {@code score},
     * {@code probabilities} by class index and {@code scores} by label name; for regression {@code score} = the output.
     */
    private ObjectNode output(float[] logits) {
        ObjectNode o = json.createObjectNode();
        ArrayNode raw = o.putArray("logits");
        for (float v : logits) {
            raw.add(v);
        }
        if (backend.config().isRegression()) {
            o.put("score", logits[0]);
            return o;
        }
        double[] p = Softmax.probabilities(logits);
        int best = Softmax.argmax(logits);
        List<String> labels = backend.config().id2label();
        ArrayNode probabilities = o.putArray("probabilities");
        ObjectNode scores = json.createObjectNode();
        for (int i = 0; i < p.length; i++) {
            probabilities.add(p[i]);
            scores.put(labels.get(i), p[i]);
        }
        o.put("label", labels.get(best));
        o.put("score", p[best]);
        o.set("scores", scores);
        return o;
    }

    static String unknownField(JsonNode node, Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                return f;
            }
        }
        return null;
    }

    private Reply error(int status, String message, String field) {
        ObjectNode o = json.createObjectNode().put("error", message);
        if (field != null) {
            o.put("field", field);
        }
        return new Reply(status, o);
    }
}
