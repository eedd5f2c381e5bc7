package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.TinyModel;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static dev.convbert.runtime.serve.ServerTest.client;
import static dev.convbert.runtime.serve.ServerTest.get;
import static dev.convbert.runtime.serve.ServerTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Open Inference Protocol endpoints against the shapes of the protocol's REST specification (inference_rest.md):
 * health, model metadata and readiness, infer with BYTES text and with INT64 ids, and its error object.
 */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class OpenInferenceProtocolTest {
    static OrtModel model;
    static BertTokenizer tokenizer;
    static PredictionServer server;

    @BeforeAll
    static void start() throws Exception {
        model = OrtModel.open(TinyModel.ONNX, ExecutionProvider.cpu());
        tokenizer = new BertTokenizer(Vocab.read(TinyModel.VOCAB));
        server = PredictionServer.start(model, tokenizer, ServerOptions.defaults().withPort(0).withModelName("sst2"));
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthMetadataAndReadiness() throws Exception {
        assertEquals("{\"live\":true}", get(server.port(), "/v2/health/live").body());
        HttpResponse<String> ready = get(server.port(), "/v2/health/ready");
        assertEquals(200, ready.statusCode());
        assertEquals(true, json.readTree(ready.body()).get("ready").asBoolean());
        JsonNode meta = json.readTree(get(server.port(), "/v2/models/sst2").body());
        assertEquals("sst2", meta.get("name").asText());
        assertEquals("1", meta.get("versions").get(0).asText());
        assertEquals("onnxruntime_onnx", meta.get("platform").asText());
        JsonNode logits = meta.get("outputs").get(0);
        assertEquals("logits", logits.get("name").asText());
        assertEquals("FP32", logits.get("datatype").asText());
        assertEquals(List.of(-1, 2), List.of(logits.get("shape").get(0).asInt(), logits.get("shape").get(1).asInt()));
        assertTrue(meta.get("inputs").toString().contains("{\"name\":\"text_a\",\"datatype\":\"BYTES\",\"shape\":[-1]}"), meta.toString());
        assertEquals(200, get(server.port(), "/v2/models/sst2/ready").statusCode());
        assertEquals(200, get(server.port(), "/v2/models/sst2/versions/1/ready").statusCode());
        HttpResponse<String> unknown = get(server.port(), "/v2/models/mnli");
        assertEquals(404, unknown.statusCode());
        assertTrue(json.readTree(unknown.body()).get("error").asText().contains("unknown model \"mnli\""), unknown.body());
    }

    /** Text as BYTES and the same text as INT64 ids give the logits ONNX Runtime gives for the encoding alone. */
    @Test
    void inferWithTextAndWithIds() throws Exception {
        String text = "a gripping , funny film";
        Encoding e = tokenizer.encode(text, 128);
        long[] ids = new long[e.length()];
        long[] types = new long[e.length()];
        long[] mask = new long[e.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = e.inputIds()[i];
            mask[i] = 1;
        }
        float[] alone = model.run(new long[][]{ids}, new long[][]{types}, new long[][]{mask}, false).logits()[0];

        HttpResponse<String> r = post("/v2/models/sst2/infer", "{\"id\": \"42\", \"inputs\": [{\"name\": \"text_a\", \"shape\": [1], "
                + "\"datatype\": \"BYTES\", \"data\": [\"" + text + "\"]}]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode res = json.readTree(r.body());
        assertEquals("sst2", res.get("model_name").asText());
        assertEquals("1", res.get("model_version").asText());
        assertEquals("42", res.get("id").asText());
        JsonNode out = res.get("outputs").get(0);
        assertEquals("logits", out.get("name").asText());
        assertEquals("FP32", out.get("datatype").asText());
        assertEquals("[1,2]", out.get("shape").toString());
        for (int c = 0; c < 2; c++) {
            assertEquals(alone[c], out.get("data").get(c).floatValue(), 1e-5);
        }
        JsonNode label = res.get("outputs").get(1);
        assertEquals("label", label.get("name").asText());
        assertEquals(alone[1] > alone[0] ? "1" : "0", label.get("data").get(0).asText());

        // the same row as ids, padded to 12 with a mask, beside a second row: the first row's logits do not change
        int len = 12;
        StringBuilder idData = new StringBuilder();
        StringBuilder maskData = new StringBuilder();
        for (int row = 0; row < 2; row++) {
            for (int j = 0; j < len; j++) {
                boolean real = row == 0 ? j < ids.length : j < 3;
                long id = row == 0 ? (j < ids.length ? ids[j] : 0) : new long[]{101, 2204, 102}[Math.min(j, 2)];
                idData.append(idData.length() == 0 ? "" : ",").append(real ? id : 0);
                maskData.append(maskData.length() == 0 ? "" : ",").append(real ? 1 : 0);
            }
        }
        r = post("/v2/models/sst2/versions/1/infer", "{\"inputs\": [{\"name\": \"input_ids\", \"shape\": [2, " + len + "], \"datatype\": \"INT64\", "
                + "\"data\": [" + idData + "]}, {\"name\": \"attention_mask\", \"shape\": [2, " + len + "], \"datatype\": \"INT64\", \"data\": ["
                + maskData + "]}]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode logits = json.readTree(r.body()).get("outputs").get(0);
        assertEquals("[2,2]", logits.get("shape").toString());
        for (int c = 0; c < 2; c++) {
            assertEquals(alone[c], logits.get("data").get(c).floatValue(), 1e-5);
        }
    }

    /** GET / is the page to try the model; it reads the card from /v1/model and posts to /v1/predict. */
    @Test
    void thePageAndTheModelCardAreServed() throws Exception {
        HttpResponse<String> page = get(server.port(), "/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("id=\"predict\"") && page.body().contains("fetch(\"/v1/predict\"")
                && page.body().contains("fetch(\"/v1/model\")"), "the page calls the API");
        JsonNode card = json.readTree(get(server.port(), "/v1/model").body());
        assertEquals("sst2", card.get("name").asText());
        assertEquals("[\"0\",\"1\"]", card.get("labels").toString());
        assertEquals(404, get(server.port(), "/index.html").statusCode());
    }

    @Test
    void badRequestsGetTheProtocolsErrorObject() throws Exception {
        for (String body : List.of("{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1.0]}]}",
                "{\"inputs\": [{\"name\": \"text_a\", \"shape\": [2], \"datatype\": \"BYTES\", \"data\": [\"only one\"]}]}",
                "{\"inputs\": [{\"name\": \"pixels\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"x\"]}]}",
                "{\"inputs\": [{\"name\": \"input_ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [101, 99999999, 102]}]}",
                "not json")) {
            HttpResponse<String> r = post("/v2/models/sst2/infer", body);
            assertEquals(400, r.statusCode(), body + " -> " + r.body());
            JsonNode err = json.readTree(r.body());
            assertEquals(1, err.size(), r.body());
            assertTrue(err.get("error").asText().length() > 10, r.body());
        }
        assertEquals(405, get(server.port(), "/v2/models/sst2/infer").statusCode());
    }

    static HttpResponse<String> postBytes(String path, byte[] body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Each refused with 400 and a message naming what is wrong (each passed or failed deeper before). */
    @Test
    void theEdgesOfARequestAreRefusedByName() throws Exception {
        String ids = "{\"name\": \"input_ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [101, 2204, 102]}";
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"inputs\": [{\"name\": \"input_ids\", \"shape\": [4611686018427387905, 4], \"datatype\": \"INT64\","
                + " \"data\": [101, 2204, 102, 0]}]}", "more elements than a 64-bit count");
        cases.put("{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1.5], \"datatype\": \"BYTES\", \"data\": [\"x\"]}]}",
                "shape[0] = 1.5");
        cases.put("{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"x\"]}, " + ids + "]}",
                "mix texts and token ids");
        cases.put("{\"inputs\": [" + ids + ", {\"name\": \"token_type_ids\", \"shape\": [1, 3], \"datatype\": \"INT64\","
                + " \"data\": [0, 2, 0]}]}", "row 0: token_type_ids[1] = 2 is outside [0, 2) (type_vocab_size)");
        cases.put("{\"inputs\": [" + ids + ", {\"name\": \"attention_mask\", \"shape\": [1, 3], \"datatype\": \"INT64\","
                + " \"data\": [0, 0, 0]}]}", "row 0: attention_mask is all zeros");
        for (var c : cases.entrySet()) {
            HttpResponse<String> r = post("/v2/models/sst2/infer", c.getKey());
            assertEquals(400, r.statusCode(), c.getKey() + " -> " + r.body());
            assertTrue(json.readTree(r.body()).get("error").asText().contains(c.getValue()), c.getKey() + " -> " + r.body());
        }
        // an overlong encoding of '/' (C0 AF): Jackson's byte parser reads it as a character
        byte[] head = "{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "b\"]}]}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + 2 + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        body[head.length] = (byte) 0xC0;
        body[head.length + 1] = (byte) 0xAF;
        System.arraycopy(tail, 0, body, head.length + 2, tail.length);
        for (String path : List.of("/v2/models/sst2/infer", "/v1/predict")) {
            byte[] b = path.startsWith("/v1")
                    ? new String(body, StandardCharsets.ISO_8859_1).replace("{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [", "{\"text_a\": ")
                            .replace("\"]}]}", "\"}]}").getBytes(StandardCharsets.ISO_8859_1) : body;
            HttpResponse<String> r = postBytes(path, b);
            assertEquals(400, r.statusCode(), path + " -> " + r.body());
            assertTrue(r.body().contains("not valid UTF-8"), r.body());
        }
    }

    /** KServe's V1 protocol: readiness, and :predict with instances as strings or text objects, answered as /v1/predict. */
    @Test
    void kserveV1PredictAndReadiness() throws Exception {
        HttpResponse<String> ready = get(server.port(), "/v1/models/sst2");
        assertEquals(200, ready.statusCode());
        assertEquals("{\"name\":\"sst2\",\"ready\":true}", ready.body());
        HttpResponse<String> r = post("/v1/models/sst2:predict",
                "{\"instances\": [\"a gripping, funny film\", {\"text_a\": \"a dull\", \"text_b\": \"mess\"}]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode predictions = json.readTree(r.body()).get("predictions");
        assertEquals(2, predictions.size());
        JsonNode v1 = json.readTree(post("/v1/predict", "{\"inputs\": [{\"text_a\": \"a gripping, funny film\"}]}").body())
                .get("outputs").get(0);
        assertEquals(v1, predictions.get(0), "the same answer as /v1/predict");
        assertTrue(predictions.get(1).has("label") && predictions.get(1).get("logits").size() == 2);
        assertEquals(404, post("/v1/models/mnli:predict", "{\"instances\": [\"x\"]}").statusCode());
        assertEquals(405, get(server.port(), "/v1/models/sst2:predict").statusCode());
        HttpResponse<String> bad = post("/v1/models/sst2:predict", "{\"inputs\": [\"x\"]}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("instances"), bad.body());
        assertEquals(400, post("/v1/models/sst2:predict", "{\"instances\": [5]}").statusCode());
    }

    /** The 404 names every route; a method a route does not take is 405 with Allow, "/" included. */
    @Test
    void unknownPathsListEveryRouteAndWrongMethodsAre405() throws Exception {
        for (String path : List.of("/nope", "/v2/nope")) {
            HttpResponse<String> r = get(server.port(), path);
            assertEquals(404, r.statusCode());
            for (String route : List.of("GET /", "POST /v1/predict", "GET /v1/model", "POST /v2/models/NAME/infer", "GET /v2/health/ready",
                    "GET /health", "GET /health/live", "GET /metrics", "GET /metrics.json")) {
                assertTrue(r.body().contains(route + ",") || r.body().contains(route + " ") || r.body().contains(route + "\""), route + ": " + r.body());
            }
        }
        HttpResponse<String> postRoot = post("/", "{}");
        assertEquals(405, postRoot.statusCode(), postRoot.body());
        assertEquals("GET", postRoot.headers().firstValue("Allow").orElse(""));
    }

    /** A request's outputs choose what comes back; an unknown one is refused by name. */
    @Test
    void requestedOutputs() throws Exception {
        String text = "{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a fine film\"]}";
        JsonNode only = json.readTree(post("/v2/models/sst2/infer",
                "{\"inputs\": [" + text + "], \"outputs\": [{\"name\": \"label\"}]}").body());
        assertEquals(1, only.get("outputs").size(), only.toString());
        assertEquals("label", only.get("outputs").get(0).get("name").asText());
        HttpResponse<String> unknown = post("/v2/models/sst2/infer", "{\"inputs\": [" + text + "], \"outputs\": [{\"name\": \"probs\"}]}");
        assertEquals(400, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("probs"), unknown.body());
        assertTrue(get(server.port(), "/v2").body().contains("\"binary_tensor_data\""), "the extension is advertised");
    }

    static byte[] le(int v) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static HttpResponse<byte[]> postBinary(String json, byte[] binary) throws Exception {
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v2/models/sst2/infer"))
                .header("Inference-Header-Content-Length", Integer.toString(head.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(concat(head, binary))).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /**
     * Triton's binary tensor extension, built byte by byte as tritonclient sends it: a BYTES input as 4-byte
     * little-endian lengths and bytes, INT64 ids raw beside a JSON mask, and binary outputs after the response's JSON;
     * every answer equals the all-JSON one. A length past the data, or a header past the body, is a 400.
     */
    @Test
    void tritonBinaryTensors() throws Exception {
        String sentence = "a fine film";
        float[] want = new float[2];
        JsonNode jsonAnswer = json.readTree(post("/v2/models/sst2/infer", "{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], "
                + "\"datatype\": \"BYTES\", \"data\": [\"" + sentence + "\"]}]}").body());
        for (int c = 0; c < 2; c++) {
            want[c] = jsonAnswer.get("outputs").get(0).get("data").get(c).floatValue();
        }
        byte[] text = sentence.getBytes(StandardCharsets.UTF_8);
        byte[] element = concat(le(text.length), text);
        // binary input, binary outputs for both (binary_data_output, as tritonclient asks when it names no outputs)
        HttpResponse<byte[]> r = postBinary("{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"BYTES\", "
                + "\"parameters\": {\"binary_data_size\": " + element.length + "}}], \"parameters\": {\"binary_data_output\": true}}", element);
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        int headLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode head = json.readTree(java.util.Arrays.copyOf(r.body(), headLength));
        assertEquals(8, head.get("outputs").get(0).get("parameters").get("binary_data_size").asInt(), head.toString());
        java.nio.ByteBuffer raw = java.nio.ByteBuffer.wrap(r.body(), headLength, r.body().length - headLength).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(want[0], raw.getFloat(), 1e-6);
        assertEquals(want[1], raw.getFloat(), 1e-6);
        int labelLength = raw.getInt();
        byte[] label = new byte[labelLength];
        raw.get(label);
        assertEquals(jsonAnswer.get("outputs").get(1).get("data").get(0).asText(), new String(label, StandardCharsets.UTF_8));
        assertEquals(0, raw.remaining());

        // mixed: INT64 ids as binary, the mask as JSON data, logits asked for as JSON
        var e = tokenizer.encode(sentence, 128);
        java.nio.ByteBuffer ids = java.nio.ByteBuffer.allocate(8 * e.length()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        StringBuilder mask = new StringBuilder();
        for (int id : e.inputIds()) {
            ids.putLong(id);
            mask.append(mask.length() == 0 ? "1" : ",1");
        }
        HttpResponse<byte[]> mixed = postBinary("{\"inputs\": [{\"name\": \"input_ids\", \"shape\": [1, " + e.length() + "], "
                + "\"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": " + ids.capacity() + "}}, {\"name\": \"attention_mask\", "
                + "\"shape\": [1, " + e.length() + "], \"datatype\": \"INT64\", \"data\": [" + mask + "]}], "
                + "\"outputs\": [{\"name\": \"logits\", \"parameters\": {\"binary_data\": false}}]}", ids.array());
        assertEquals(200, mixed.statusCode(), new String(mixed.body(), StandardCharsets.UTF_8));
        assertTrue(mixed.headers().firstValue("Inference-Header-Content-Length").isEmpty(), "all-JSON answer");
        JsonNode m = json.readTree(mixed.body()).get("outputs").get(0);
        assertEquals(want[0], m.get("data").get(0).floatValue(), 1e-5);
        assertEquals(want[1], m.get("data").get(1).floatValue(), 1e-5);

        // a BYTES length past the data; a header longer than the body
        byte[] lying = concat(le(1000), text);
        HttpResponse<byte[]> bad = postBinary("{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], \"datatype\": \"BYTES\", "
                + "\"parameters\": {\"binary_data_size\": " + lying.length + "}}]}", lying);
        assertEquals(400, bad.statusCode());
        assertTrue(new String(bad.body(), StandardCharsets.UTF_8).contains("BYTES element of 1000 bytes"), new String(bad.body(), StandardCharsets.UTF_8));
        // an overlong NUL (C0 80) inside a binary BYTES element is refused as in a JSON body
        byte[] overlong = concat(le(2), new byte[]{(byte) 0xC0, (byte) 0x80});
        HttpResponse<byte[]> smuggled = postBinary("{\"inputs\": [{\"name\": \"text_a\", \"shape\": [1], \"datatype\": "
                + "\"BYTES\", \"parameters\": {\"binary_data_size\": " + overlong.length + "}}]}", overlong);
        assertEquals(400, smuggled.statusCode());
        assertTrue(new String(smuggled.body(), StandardCharsets.UTF_8).contains("a BYTES element is not valid UTF-8"),
                new String(smuggled.body(), StandardCharsets.UTF_8));
        HttpResponse<byte[]> tooLong = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v2/models/sst2/infer"))
                .header("Inference-Header-Content-Length", "5000").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(400, tooLong.statusCode());
    }
}
