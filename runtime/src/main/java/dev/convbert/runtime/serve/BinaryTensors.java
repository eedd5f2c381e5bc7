package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.convbert.core.InvalidInputException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Triton's binary tensor data extension (server docs, protocol/extension_binary_data.md): a request whose
 * {@code Inference-Header-Content-Length} header says how many leading bytes are the JSON; the raw tensors follow in
 * the order of the inputs that give {@code parameters.binary_data_size}. BYTES elements are a 4-byte little-endian
 * length and the bytes; INT64, INT32 and FP32 are raw little-endian. Outputs asked for as binary are written the same
 * way after the response's JSON.
 */
final class BinaryTensors {
    /** The header naming the JSON's length, on requests and responses. */
    static final String HEADER = "Inference-Header-Content-Length";

    private final ByteBuffer data;

    /** The bytes after the JSON header of a request. */
    BinaryTensors(byte[] body, int from) {
        data = ByteBuffer.wrap(body, from, body.length - from).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The JSON header's length from the header value, checked against the body. */
    static int headerLength(String value, int bodyLength) {
        long n;
        try {
            n = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(HEADER + ": \"" + value + "\" is not a byte count");
        }
        if (n < 0 || n > bodyLength) {
            throw new InvalidInputException(HEADER + ": " + n + " bytes of JSON, but the body has " + bodyLength);
        }
        return (int) n;
    }

    /** The next {@code size} bytes as the elements of a tensor of {@code datatype}. */
    List<JsonNode> read(String name, String datatype, long size) {
        if (size < 0 || size > data.remaining()) {
            throw new InvalidInputException("input \"" + name + "\": binary_data_size " + size + " but " + data.remaining()
                    + " bytes of binary data are left");
        }
        ByteBuffer t = data.slice().order(ByteOrder.LITTLE_ENDIAN).limit((int) size);
        data.position(data.position() + (int) size);
        List<JsonNode> out = new ArrayList<>();
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (datatype) {
            case "BYTES" -> {
                while (t.hasRemaining()) {
                    if (t.remaining() < 4) {
                        throw new InvalidInputException("input \"" + name + "\": a BYTES element's 4-byte length is cut off");
                    }
                    int len = t.getInt();
                    if (len < 0 || len > t.remaining()) {
                        throw new InvalidInputException("input \"" + name + "\": a BYTES element of " + Integer.toUnsignedLong(len)
                                + " bytes, but " + t.remaining() + " are left");
                    }
                    byte[] b = new byte[len];
                    t.get(b);
                    out.add(f.textNode(StrictUtf8.decode(b, "input \"" + name + "\": a BYTES element", "")));
                }
            }
            case "INT64" -> {
                requireMultiple(name, size, 8);
                while (t.hasRemaining()) {
                    out.add(f.numberNode(t.getLong()));
                }
            }
            case "INT32" -> {
                requireMultiple(name, size, 4);
                while (t.hasRemaining()) {
                    out.add(f.numberNode((long) t.getInt()));
                }
            }
            case "FP32" -> {
                requireMultiple(name, size, 4);
                while (t.hasRemaining()) {
                    out.add(f.numberNode(t.getFloat()));
                }
            }
            default -> throw new InvalidInputException("input \"" + name + "\": binary data of " + datatype
                    + " is not read; send BYTES, INT64, INT32 or FP32");
        }
        return out;
    }

    /** Every byte after the JSON belongs to some input. */
    void requireAllRead() {
        if (data.hasRemaining()) {
            throw new InvalidInputException(data.remaining() + " bytes of binary data belong to no input"
                    + " (the inputs' binary_data_size values add up to less)");
        }
    }

    private static void requireMultiple(String name, long size, int width) {
        if (size % width != 0) {
            throw new InvalidInputException("input \"" + name + "\": binary_data_size " + size + " is not a multiple of " + width);
        }
    }

    static byte[] fp32(List<float[]> rows) {
        ByteBuffer b = ByteBuffer.allocate(rows.stream().mapToInt(r -> r.length * 4).sum()).order(ByteOrder.LITTLE_ENDIAN);
        rows.forEach(r -> {
            for (float v : r) {
                b.putFloat(v);
            }
        });
        return b.array();
    }

    static byte[] bytes(List<String> values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String v : values) {
            byte[] s = v.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length).array());
            out.writeBytes(s);
        }
        return out.toByteArray();
    }
}
