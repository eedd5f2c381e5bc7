package dev.convbert.core.safetensors;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (u64 LE header length N, N bytes of JSON, raw little-endian data).
 *
 * <p>The reader validates every rule of the format before touching tensor data (DJL's decoder does not range-check
 * the header), memory-maps the data, and never allocates more than the file holds: a hostile header yields a
 * {@link SafetensorsFormatException} naming the rule and the tensor, nothing else.
 */
public final class Safetensors {

    /** Larger headers are refused outright; real ones are a few hundred KiB (the reference reader uses 100 MB). */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Safetensors() {}

    /** The tensors of one file, in file order, plus its {@code __metadata__}. */
    public record Contents(Map<String, SafeTensor> tensors, Map<String, String> metadata) {
        public SafeTensor get(String name) {
            return tensors.get(name);
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "file is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.flip().getLong();
            if (n < 2 || n > MAX_HEADER_BYTES || n > size - 8) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " does not fit the file (" + size
                        + " bytes); the file is truncated or not safetensors");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
            readFully(ch, headerBytes, 8);
            headerBytes.flip();
            String header;
            try {
                header = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(headerBytes).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, "header is not valid UTF-8");
            }
            if (!header.startsWith("{")) {
                throw bad(file, "header must start with '{'");
            }
            JsonNode root;
            try {
                root = JSON.readTree(header);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw bad(file, "header is not valid JSON: " + e.getOriginalMessage());
            }
            if (root == null || !root.isObject()) {
                throw bad(file, "header is not a JSON object");
            }
            long dataSize = size - 8 - n;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseEntries(file, (ObjectNode) root, dataSize, metadata);
            checkLayout(file, entries, dataSize);

            Map<String, SafeTensor> tensors = new LinkedHashMap<>();
            long base = 8 + n;
            for (Entry e : entries) {
                ByteBuffer data = e.end == e.begin
                        ? ByteBuffer.allocate(0)
                        : ch.map(FileChannel.MapMode.READ_ONLY, base + e.begin, e.end - e.begin);
                tensors.put(e.name, new SafeTensor(e.name, e.dtype, e.shape, data.asReadOnlyBuffer()));
            }
            return new Contents(tensors, metadata);
        }
    }

    private static List<Entry> parseEntries(Path file, ObjectNode root, long dataSize, Map<String, String> metadata) {
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw bad(file, "__metadata__ must be an object of strings");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw bad(file, "__metadata__ value \"" + kv.getKey() + "\" must be a string, found "
                                + kv.getValue().getNodeType());
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            String where = "tensor \"" + name + "\"";
            if (!v.isObject()) {
                throw bad(file, where + ": entry must be an object with dtype, shape, data_offsets");
            }
            JsonNode dt = v.get("dtype");
            DType dtype = dt != null && dt.isTextual() ? DType.parse(dt.asText()) : null;
            if (dtype == null) {
                throw bad(file, where + ": unsupported dtype " + dt + "; expected one of " + Arrays.toString(DType.values()));
            }
            JsonNode shapeNode = v.get("shape");
            if (shapeNode == null || !shapeNode.isArray()) {
                throw bad(file, where + ": shape must be an array of integers");
            }
            long[] shape = new long[shapeNode.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                    throw bad(file, where + ": shape " + shapeNode + " has a dimension that is not a non-negative integer");
                }
                shape[i] = d.asLong();
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException e) {
                    throw bad(file, where + ": shape " + shapeNode + " overflows");
                }
            }
            JsonNode off = v.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                    || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
                throw bad(file, where + ": data_offsets must be [begin, end]");
            }
            long begin = off.get(0).asLong();
            long end = off.get(1).asLong();
            if (begin < 0 || end < begin) {
                throw bad(file, where + ": data_offsets [" + begin + ", " + end + "] must satisfy 0 <= begin <= end");
            }
            if (end > dataSize) {
                throw bad(file, where + ": data_offsets [" + begin + ", " + end + "] run past the data section ("
                        + dataSize + " bytes); the file is truncated");
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(numel, (long) dtype.bytes());
            } catch (ArithmeticException e) {
                throw bad(file, where + ": shape " + shapeNode + " overflows");
            }
            if (bytes != end - begin) {
                throw bad(file, where + " declares shape " + shapeNode + " " + dtype + " (" + bytes
                        + " bytes) but data_offsets span " + (end - begin) + " bytes");
            }
            entries.add(new Entry(name, dtype, shape, begin, end));
        }
        return entries;
    }

    private static void checkLayout(Path file, List<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        for (Entry e : sorted) {
            if (e.begin < expected) {
                throw bad(file, "tensor \"" + e.name + "\" data_offsets [" + e.begin + ", " + e.end
                        + "] overlap the previous tensor, which ends at " + expected);
            }
            if (e.begin > expected) {
                throw bad(file, "tensor \"" + e.name + "\" starts at " + e.begin + " but the previous data ends at "
                        + expected + " (gap in the data section)");
            }
            expected = e.end;
        }
        if (expected != dataSize) {
            throw bad(file, "data section is " + dataSize + " bytes but tensors cover " + expected
                    + (dataSize > expected ? " (trailing bytes)" : ""));
        }
    }

    /** Writes {@code tensors} atomically, data in the order given, header padded to 8 bytes as the reference does. */
    public static void write(Path file, Collection<SafeTensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (SafeTensor t : tensors) {
            if (header.has(t.name())) {
                throw new IllegalArgumentException("duplicate tensor name \"" + t.name() + "\"");
            }
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", t.dtype().name());
            var shape = e.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long len = t.data().remaining();
            e.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            byte[] chunk = new byte[1 << 16];
            for (SafeTensor t : tensors) {
                copy(t.data().duplicate(), out, chunk);
            }
        });
    }

    private static void copy(ByteBuffer src, OutputStream out, byte[] chunk) throws IOException {
        while (src.hasRemaining()) {
            int k = Math.min(chunk.length, src.remaining());
            src.get(chunk, 0, k);
            out.write(chunk, 0, k);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += r;
        }
    }

    private static SafetensorsFormatException bad(Path file, String msg) {
        return new SafetensorsFormatException(file, msg);
    }

}
