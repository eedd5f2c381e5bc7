package dev.convbert.runtime.serve;

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
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Open Inference Protocol (KServe V2, Triton's HTTP API) over the same micro-batcher as {@code /v1/predict}:
 * server and model health, model metadata, and {@code infer} with text inputs as BYTES tensors ({@code text_a},
 * optional {@code text_b}) or token ids as INT64 tensors ({@code input_ids}, optional {@code attention_mask} and
 * {@code token_type_ids}, right-padded). Outputs: {@code logits} FP32 [batch, labels] and {@code label} BYTES [batch].
 * A request's {@code outputs} choose among them; tensors travel as JSON or, with Triton's binary tensor data extension
 * ({@link BinaryTensors}), as raw bytes after the JSON, in either direction. Errors are {@code {"error": "…"}} with status 400 (bad request), 404
 * (unknown model or path) or 503.
 *
 * <p>Specification: kserve/open-inference-protocol, specification/protocol/inference_rest.md.
 */
record OpenInferenceProtocol(ObjectMapper json, BertTokenizer tokenizer, ServerOptions options,
        InferenceBackend backend) {
    static final String VERSION = "1";
    private static final Pattern MODEL_PATH = Pattern.compile("/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?");
    private static final Set<String> REQUEST_FIELDS = Set.of("id", "parameters", "inputs", "outputs");
    private static final Set<String> INPUTS = Set.of("text_a", "text_b", "input_ids", "attention_mask", "token_type_ids");
    /** In the order a response lists them. */
    private static final List<String> OUTPUTS = List.of("logits", "label");

    /**
     * Routes one {@code /v2…} request; {@code binaryHeader} is the {@code Inference-Header-Content-Length} header's
     * value (Triton's binary tensor extension) or null.
     */
    Reply handle(String method, String path, byte[] body, String binaryHeader) {
        switch (path) {
            case "/v2":
                return get(method).orElse(new Reply(200, json.createObjectNode().put("name", "convbert").put("version",
                        PredictionServer.VERSION).set("extensions", json.createArrayNode().add("binary_tensor_data"))));
            case "/v2/health/live":
                return get(method).orElse(new Reply(200, json.createObjectNode().put("live", true)));
            case "/v2/health/ready":
                return get(method).orElse(new Reply(backend.ready() ? 200 : 503, json.createObjectNode().put("ready", backend.ready())));
            default:
                break;
        }
        Matcher m = MODEL_PATH.matcher(path);
        if (!m.matches()) {
            return error(404, "no such endpoint: " + path + "; expected " + PredictionServer.ROUTES);
        }
        if (!m.group(1).equals(options.modelName())) {
            return error(404, "unknown model \"" + m.group(1) + "\"; this server serves \"" + options.modelName() + "\"");
        }
        if (m.group(2) != null && !m.group(2).equals(VERSION)) {
            return error(404, "unknown version \"" + m.group(2) + "\" of model \"" + options.modelName() + "\"; it has version " + VERSION);
        }
        String action = m.group(3);
        if (action == null) {
            return get(method).orElse(new Reply(200, metadata()));
        }
        if (action.equals("/ready")) {
            return get(method).orElse(new Reply(backend.ready() ? 200 : 503,
                    json.createObjectNode().put("name", options.modelName()).put("ready", backend.ready())));
        }
        if (!method.equals("POST")) {
            return error(405, method + " not allowed; use POST");
        }
        return infer(body, binaryHeader);
    }

    private java.util.Optional<Reply> get(String method) {
        return method.equals("GET") ? java.util.Optional.empty() : java.util.Optional.of(error(405, method + " not allowed; use GET"));
    }

    private ObjectNode metadata() {
        ObjectNode o = json.createObjectNode().put("name", options.modelName()).put("platform", "onnxruntime_onnx");
        o.putArray("versions").add(VERSION);
        ArrayNode inputs = o.putArray("inputs");
        inputs.addObject().put("name", "text_a").put("datatype", "BYTES").putArray("shape").add(-1);
        inputs.addObject().put("name", "text_b").put("datatype", "BYTES").putArray("shape").add(-1);
        for (String n : List.of("input_ids", "attention_mask", "token_type_ids")) {
            inputs.addObject().put("name", n).put("datatype", "INT64").putArray("shape").add(-1).add(-1);
        }
        ArrayNode outputs = o.putArray("outputs");
        outputs.addObject().put("name", "logits").put("datatype", "FP32").putArray("shape").add(-1).add(backend.config().numLabels());
        outputs.addObject().put("name", "label").put("datatype", "BYTES").putArray("shape").add(-1);
        return o;
    }

    private Reply infer(byte[] body, String binaryHeader) {
        if (!backend.ready()) {
            return error(503, "model is not ready");
        }
        if (body.length > options.maxBodyBytes()) {
            return error(413, "request body exceeds " + options.maxBodyBytes() + " bytes");
        }
        JsonNode req;
        List<Encoding> rows;
        Map<String, Boolean> wanted;
        try {
            int jsonLength = binaryHeader == null ? body.length : BinaryTensors.headerLength(binaryHeader, body.length);
            try {
                req = json.readTree(StrictUtf8.decode(java.util.Arrays.copyOf(body, jsonLength)));
            } catch (java.io.IOException e) {
                return error(400, "body is not valid JSON: " + e.getMessage());
            }
            BinaryTensors binary = binaryHeader == null ? null : new BinaryTensors(body, jsonLength);
            rows = rows(req, binary);
            if (binary != null) {
                binary.requireAllRead();
            }
            wanted = requestedOutputs(req);
        } catch (InvalidInputException e) {
            return error(400, e.getMessage());
        }
        if (rows.size() > options.maxInputs()) {
            return error(413, rows.size() + " rows in one request; the limit is " + options.maxInputs());
        }
        InferenceBackend.Result r = backend.infer(rows, options.defaultTimeoutMs());
        if (r.error() != null) {
            return error(r.status(), r.error());
        }
        ObjectNode res = json.createObjectNode().put("model_name", options.modelName()).put("model_version", VERSION);
        if (req.hasNonNull("id")) {
            res.put("id", req.get("id").asText());
        }
        ArrayNode logits = json.createArrayNode();
        List<String> names = new ArrayList<>();
        for (float[] row : r.logits()) {
            for (float v : row) {
                logits.add(v);
            }
            names.add(backend.config().isRegression() ? Float.toString(row[0]) : backend.config().id2label().get(Softmax.argmax(row)));
        }
        ArrayNode outputs = res.putArray("outputs");
        java.io.ByteArrayOutputStream binaryOut = new java.io.ByteArrayOutputStream();
        for (String name : OUTPUTS) {
            if (!wanted.containsKey(name)) {
                continue;
            }
            boolean logitsOut = name.equals("logits");
            ObjectNode o = outputs.addObject().put("name", name).put("datatype", logitsOut ? "FP32" : "BYTES");
            ArrayNode shape = o.putArray("shape").add(rows.size());
            if (logitsOut) {
                shape.add(backend.config().numLabels());
            }
            if (wanted.get(name)) {
                byte[] raw = logitsOut ? BinaryTensors.fp32(r.logits()) : BinaryTensors.bytes(names);
                o.putObject("parameters").put("binary_data_size", raw.length);
                binaryOut.writeBytes(raw);
            } else if (logitsOut) {
                o.set("data", logits);
            } else {
                ArrayNode data = o.putArray("data");
                names.forEach(data::add);
            }
        }
        return new Reply(200, res, binaryOut.size() == 0 ? null : binaryOut.toByteArray());
    }

    /**
     * The outputs the request names (every output when it names none), each with whether it goes as binary data:
     * asked per output ({@code parameters.binary_data}) or for all ({@code parameters.binary_data_output}, what
     * tritonclient sends when a request names no outputs).
     */
    private static Map<String, Boolean> requestedOutputs(JsonNode req) {
        boolean allBinary = req.path("parameters").path("binary_data_output").asBoolean(false);
        JsonNode outputs = req.get("outputs");
        Map<String, Boolean> wanted = new java.util.LinkedHashMap<>();
        if (outputs == null || outputs.isNull() || (outputs.isArray() && outputs.isEmpty())) {
            OUTPUTS.forEach(n -> wanted.put(n, allBinary));
            return wanted;
        }
        if (!outputs.isArray()) {
            throw new InvalidInputException("\"outputs\" must be an array of {\"name\"}");
        }
        for (JsonNode out : outputs) {
            String name = out.path("name").asText("");
            if (!OUTPUTS.contains(name)) {
                throw new InvalidInputException("unknown output \"" + name + "\"; expected one of " + OUTPUTS);
            }
            wanted.put(name, out.path("parameters").path("binary_data").asBoolean(allBinary));
        }
        return wanted;
    }

    /** The request's rows: from BYTES text tensors, or from INT64 id tensors. */
    private List<Encoding> rows(JsonNode req, BinaryTensors binary) {
        if (req == null || !req.isObject()) {
            throw new InvalidInputException("body must be a JSON object {\"inputs\": [...]}");
        }
        for (Iterator<String> it = req.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!REQUEST_FIELDS.contains(f)) {
                throw new InvalidInputException("unknown field \"" + f + "\"; expected " + REQUEST_FIELDS);
            }
        }
        JsonNode inputs = req.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw new InvalidInputException("\"inputs\" must be a non-empty array of {\"name\", \"shape\", \"datatype\", \"data\"}");
        }
        Map<String, Tensor> byName = new java.util.LinkedHashMap<>();
        for (JsonNode in : inputs) {
            Tensor t = Tensor.parse(in, binary);
            if (!INPUTS.contains(t.name)) {
                throw new InvalidInputException("unknown input \"" + t.name + "\"; expected text_a (and text_b) as BYTES, or input_ids "
                        + "(with attention_mask, token_type_ids) as INT64");
            }
            if (byName.put(t.name, t) != null) {
                throw new InvalidInputException("input \"" + t.name + "\" given twice");
            }
        }
        int limit = Math.min(options.maxLength(), backend.config().maxPositionEmbeddings());
        boolean text = byName.containsKey("text_a") || byName.containsKey("text_b");
        boolean ids = byName.keySet().stream().anyMatch(n -> !n.startsWith("text_"));
        if (text && ids) {
            throw new InvalidInputException("inputs " + byName.keySet() + " mix texts and token ids; send text_a (and text_b)"
                    + " as BYTES, or input_ids (with attention_mask, token_type_ids) as INT64, not both");
        }
        if (byName.containsKey("text_b") && !byName.containsKey("text_a")) {
            throw new InvalidInputException("text_b without text_a; text_b is the second text of a pair");
        }
        if (byName.containsKey("text_a")) {
            Tensor a = byName.get("text_a");
            Tensor b = byName.get("text_b");
            a.require("BYTES");
            if (b != null) {
                b.require("BYTES");
                if (b.values.size() != a.values.size()) {
                    throw new InvalidInputException("text_b has " + b.values.size() + " elements but text_a has " + a.values.size());
                }
            }
            if (a.values.isEmpty()) {
                throw new InvalidInputException("text_a has no elements: no rows");
            }
            List<Encoding> rows = new ArrayList<>();
            for (int i = 0; i < a.values.size(); i++) {
                ObjectNode pair = json.createObjectNode().set("text_a", a.values.get(i));
                if (b != null) {
                    pair.set("text_b", b.values.get(i));
                }
                TextPair texts = TextPair.parse(pair, "inputs text_a[" + i + "]");
                if (texts.chars() > options.maxTextChars()) {
                    throw new InvalidInputException("row " + i + ": " + texts.chars() + " characters; the limit is " + options.maxTextChars());
                }
                rows.add(texts.encode(tokenizer, limit));
            }
            return rows;
        }
        return idRows(byName);
    }

    /** Rows from INT64 {@code input_ids} [batch, sequence], right-padded as {@code attention_mask} says. */
    private List<Encoding> idRows(Map<String, Tensor> byName) {
        Tensor ids = byName.get("input_ids");
        if (ids == null) {
            throw new InvalidInputException("expected input text_a (BYTES) or input_ids (INT64)");
        }
        ids.require("INT64");
        if (ids.shape.length != 2) {
            throw new InvalidInputException("input_ids must have shape [batch, sequence], found " + java.util.Arrays.toString(ids.shape));
        }
        int batch = (int) ids.shape[0];
        int len = (int) ids.shape[1];
        if (batch < 1) {
            throw new InvalidInputException("input_ids has shape " + java.util.Arrays.toString(ids.shape) + ": no rows");
        }
        Tensor mask = byName.get("attention_mask");
        Tensor types = byName.get("token_type_ids");
        for (Tensor t : new Tensor[]{mask, types}) {
            if (t != null) {
                t.require("INT64");
                if (!java.util.Arrays.equals(t.shape, ids.shape)) {
                    throw new InvalidInputException(t.name + " has shape " + java.util.Arrays.toString(t.shape) + " but input_ids has "
                            + java.util.Arrays.toString(ids.shape));
                }
            }
        }
        if (len < 1 || len > backend.config().maxPositionEmbeddings()) {
            throw new InvalidInputException("sequence length " + len + "; expected 1 to " + backend.config().maxPositionEmbeddings());
        }
        List<Encoding> rows = new ArrayList<>();
        for (int r = 0; r < batch; r++) {
            long[] rowMask = new long[len];
            long[] rowIds = new long[len];
            long[] rowTypes = new long[len];
            for (int j = 0; j < len; j++) {
                rowMask[j] = mask == null ? 1 : mask.longAt(r * len + j);
                rowIds[j] = ids.longAt(r * len + j);
                rowTypes[j] = types == null ? 0 : types.longAt(r * len + j);
            }
            rows.add(TokenRows.rightPadded(backend.config(), rowIds, rowTypes, rowMask, "row " + r));
        }
        return rows;
    }

    /** One request tensor; {@code data} flattened row-major (the protocol allows nested arrays too). */
    private record Tensor(String name, String datatype, long[] shape, List<JsonNode> values) {
        static Tensor parse(JsonNode in, BinaryTensors binary) {
            JsonNode binarySize = in.path("parameters").path("binary_data_size");
            boolean fromBinary = !binarySize.isMissingNode();
            if (!in.isObject() || !in.path("name").isTextual() || !in.path("datatype").isTextual() || !in.path("shape").isArray()
                    || (!in.has("data") && !fromBinary)) {
                throw new InvalidInputException("each input needs \"name\", \"shape\", \"datatype\" and \"data\" (or, with the "
                        + BinaryTensors.HEADER + " header, parameters.binary_data_size)");
            }
            if (fromBinary && (binary == null || in.has("data") || !binarySize.canConvertToLong())) {
                throw new InvalidInputException("input \"" + in.get("name").asText() + "\": binary_data_size needs the "
                        + BinaryTensors.HEADER + " header, an integer size and no \"data\"");
            }
            String name = in.get("name").asText();
            long[] shape = new long[in.get("shape").size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = in.get("shape").get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                    throw new InvalidInputException("input \"" + name + "\": shape[" + i + "] = " + d
                            + "; a shape is non-negative integers");
                }
                shape[i] = d.asLong();
                try {
                    count = Math.multiplyExact(count, shape[i]);
                } catch (ArithmeticException e) {
                    throw new InvalidInputException("input \"" + name + "\": shape " + in.get("shape")
                            + " holds more elements than a 64-bit count");
                }
            }
            List<JsonNode> values = new ArrayList<>();
            if (fromBinary) {
                values.addAll(binary.read(name, in.get("datatype").asText(), binarySize.asLong()));
            } else {
                flatten(in.get("data"), values);
            }
            if (values.size() != count) {
                throw new InvalidInputException("input \"" + name + "\": shape " + java.util.Arrays.toString(shape) + " holds " + count
                        + " elements but data has " + values.size());
            }
            return new Tensor(name, in.get("datatype").asText(), shape, values);
        }

        private static void flatten(JsonNode n, List<JsonNode> out) {
            if (n.isArray()) {
                n.forEach(c -> flatten(c, out));
            } else {
                out.add(n);
            }
        }

        void require(String type) {
            if (!datatype.equals(type)) {
                throw new InvalidInputException("input \"" + name + "\" must be " + type + ", found " + datatype);
            }
        }

        long longAt(int i) {
            JsonNode v = values.get(i);
            if (!v.canConvertToLong() || !v.isIntegralNumber()) {
                throw new InvalidInputException("input \"" + name + "\" element " + i + " is not an integer");
            }
            return v.asLong();
        }
    }

    private Reply error(int status, String message) {
        return new Reply(status, json.createObjectNode().put("error", message));
    }
}
