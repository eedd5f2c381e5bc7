package dev.convbert.core.checkpoint;

import dev.convbert.core.safetensors.DType;
import dev.convbert.core.safetensors.SafeTensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Writes a single-shard TF tensor bundle, for tests that need checkpoints the fixtures do not have (sizes, damage).
 * The fixtures themselves come from TF and an independent writer; this one is checked against {@link TfBundle} only.
 */
final class TfBundleWriter {
    private TfBundleWriter() {}

    static void write(Path prefix, Map<String, SafeTensor> tensors) throws IOException {
        Map<String, byte[]> entries = new TreeMap<>();
        entries.put("", header());
        Path data = prefix.resolveSibling(prefix.getFileName() + ".data-00000-of-00001");
        long offset = 0;
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(data), 1 << 20)) {
            for (SafeTensor t : new TreeMap<>(tensors).values()) {
                byte[] bytes = new byte[t.data().remaining()];
                t.data().duplicate().get(bytes);
                out.write(bytes);
                CRC32C crc = new CRC32C();
                crc.update(bytes);
                entries.put(t.name(), entry(t, offset, bytes.length, mask((int) crc.getValue())));
                offset += bytes.length;
            }
        }
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        long[] dataBlock = block(table, records(entries));
        byte[] lastKey = ((TreeMap<String, byte[]>) entries).lastKey().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream handle = new ByteArrayOutputStream();
        varint(handle, dataBlock[0]);
        varint(handle, dataBlock[1]);
        long[] meta = block(table, records(Map.of()));
        ByteArrayOutputStream index = new ByteArrayOutputStream();
        record(index, lastKey, handle.toByteArray());
        long[] indexBlock = block(table, finish(index));
        ByteArrayOutputStream footer = new ByteArrayOutputStream();
        varint(footer, meta[0]);
        varint(footer, meta[1]);
        varint(footer, indexBlock[0]);
        varint(footer, indexBlock[1]);
        footer.write(new byte[40 - footer.size()]);
        footer.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0xdb4775248b80fb57L).array());
        table.write(footer.toByteArray());
        Files.write(prefix.resolveSibling(prefix.getFileName() + ".index"), table.toByteArray());
    }

    private static byte[] records(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : new TreeMap<>(entries).entrySet()) {
            record(b, e.getKey().getBytes(StandardCharsets.UTF_8), e.getValue());
        }
        return finish(b);
    }

    /** Every key written whole (no prefix sharing), one restart point at 0. */
    private static void record(ByteArrayOutputStream b, byte[] key, byte[] value) throws IOException {
        varint(b, 0);
        varint(b, key.length);
        varint(b, value.length);
        b.write(key);
        b.write(value);
    }

    private static byte[] finish(ByteArrayOutputStream b) throws IOException {
        b.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(1).array());
        return b.toByteArray();
    }

    private static long[] block(ByteArrayOutputStream table, byte[] contents) throws IOException {
        long offset = table.size();
        table.write(contents);
        table.write(0);
        CRC32C crc = new CRC32C();
        crc.update(contents);
        crc.update(0);
        table.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(mask((int) crc.getValue())).array());
        return new long[]{offset, contents.length};
    }

    private static byte[] header() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x08);          // num_shards = 1
        varint(b, 1);
        return b.toByteArray();
    }

    private static byte[] entry(SafeTensor t, long offset, long size, int crc) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x08);
        varint(b, t.dtype() == DType.F32 ? 1 : t.dtype() == DType.I64 ? 9 : 0);
        ByteArrayOutputStream shape = new ByteArrayOutputStream();
        for (long d : t.shape()) {
            ByteArrayOutputStream dim = new ByteArrayOutputStream();
            dim.write(0x08);
            varint(dim, d);
            shape.write(0x12);
            varint(shape, dim.size());
            shape.write(dim.toByteArray());
        }
        b.write(0x12);
        varint(b, shape.size());
        b.write(shape.toByteArray());
        b.write(0x20);          // offset (shard_id 0 is the default)
        varint(b, offset);
        b.write(0x28);
        varint(b, size);
        b.write(0x35);          // crc32c, fixed32
        b.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(crc).array());
        return b.toByteArray();
    }

    private static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    private static void varint(ByteArrayOutputStream b, long v) {
        while ((v & ~0x7fL) != 0) {
            b.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
    }
}
