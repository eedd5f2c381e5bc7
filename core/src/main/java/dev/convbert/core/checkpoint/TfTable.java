package dev.convbert.core.checkpoint;

import com.google.protobuf.CodedInputStream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BiConsumer;
import java.util.zip.CRC32C;

/**
 * The index of a TF tensor bundle: TF's copy of a LevelDB table (tensorflow/core/lib/io/table_format.txt), written
 * uncompressed — a footer with the index block's handle, an index block of data-block handles, data blocks of
 * prefix-compressed records, each block followed by its type byte and masked CRC32C.
 */
final class TfTable {
    private static final long TABLE_MAGIC = 0xdb4775248b80fb57L;
    private static final int FOOTER_BYTES = 48;
    private static final int BLOCK_TRAILER_BYTES = 5;

    private TfTable() {}

    /** Every record of the table in {@code t} (the bytes of {@code file}), in key order, blocks CRC-checked. */
    static void read(Path file, byte[] t, BiConsumer<String, byte[]> out) throws IOException {
        if (t.length < FOOTER_BYTES) {
            throw new CheckpointFormatException(file, "is " + t.length + " bytes, shorter than the 48-byte table footer; truncated");
        }
        ByteBuffer le = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
        if (le.getLong(t.length - 8) != TABLE_MAGIC) {
            throw new CheckpointFormatException(file, "bad table magic number; not a TF checkpoint index, or truncated");
        }
        CodedInputStream footer = CodedInputStream.newInstance(t, t.length - FOOTER_BYTES, FOOTER_BYTES - 8);
        footer.readRawVarint64();   // meta-index block: TF bundles write an empty one
        footer.readRawVarint64();
        long indexOffset = footer.readRawVarint64();
        long indexSize = footer.readRawVarint64();
        forEachRecord(file, block(file, t, indexOffset, indexSize, "index block"), (separator, handle) -> {
            try {
                CodedInputStream h = CodedInputStream.newInstance(handle);
                long offset = h.readRawVarint64();
                long size = h.readRawVarint64();
                forEachRecord(file, block(file, t, offset, size, "data block at " + offset), out);
            } catch (IOException e) {
                throw new CheckpointFormatException(file, "bad block handle in the index block: " + e.getMessage(), e);
            }
        });
    }

    /** The block's contents after checking its trailer: compression type 0 and the masked CRC32C of contents + type. */
    private static ByteBuffer block(Path file, byte[] t, long offset, long size, String what) {
        if (offset < 0 || size < 0 || offset + size + BLOCK_TRAILER_BYTES > t.length - FOOTER_BYTES) {
            throw new CheckpointFormatException(file, what + " [" + offset + ", +" + size + "] lies outside the file ("
                    + t.length + " bytes); truncated or corrupt");
        }
        int o = (int) offset;
        int n = (int) size;
        CRC32C crc = new CRC32C();
        crc.update(t, o, n + 1);
        int stored = ByteBuffer.wrap(t, o + n + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (unmask(stored) != (int) crc.getValue()) {
            throw new CheckpointFormatException(file, what + " fails its CRC32C check; the index file is corrupt");
        }
        if (t[o + n] != 0) {
            throw new CheckpointFormatException(file, what + " is compressed (type " + t[o + n]
                    + "); TF writes bundles uncompressed and only those are read");
        }
        return ByteBuffer.wrap(t, o, n).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Walks a block's prefix-compressed records; the restart array at its end is not needed for a full scan. */
    private static void forEachRecord(Path file, ByteBuffer block, BiConsumer<String, byte[]> out) {
        int limit = block.limit();
        if (limit < 4) {
            throw new CheckpointFormatException(file, "table block of " + limit + " bytes has no restart count; corrupt");
        }
        long restarts = Integer.toUnsignedLong(block.getInt(limit - 4));
        long dataEnd = limit - 4 - 4 * restarts;
        if (dataEnd < 0) {
            throw new CheckpointFormatException(file, "table block claims " + restarts + " restart points in " + limit + " bytes; corrupt");
        }
        byte[] b = new byte[(int) dataEnd];
        block.get(0, b);
        byte[] key = new byte[0];
        try {
            CodedInputStream in = CodedInputStream.newInstance(b);
            while (!in.isAtEnd()) {
                int shared = in.readRawVarint32();
                int unshared = in.readRawVarint32();
                int valueLength = in.readRawVarint32();
                if (shared < 0 || shared > key.length || unshared < 0 || valueLength < 0) {
                    throw new CheckpointFormatException(file, "table record with shared=" + shared + ", unshared=" + unshared
                            + ", value=" + valueLength + " after key of " + key.length + " bytes; corrupt");
                }
                byte[] next = Arrays.copyOf(key, shared + unshared);
                System.arraycopy(in.readRawBytes(unshared), 0, next, shared, unshared);
                key = next;
                out.accept(new String(key, StandardCharsets.UTF_8), in.readRawBytes(valueLength));
            }
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "table record runs past its block; corrupt: " + e.getMessage(), e);
        }
    }

    /** LevelDB/TF store CRCs rotated and offset ("masked") so that a CRC of data holding CRCs stays well mixed. */
    static int unmask(int masked) {
        int rot = masked - 0xa282ead8;
        return (rot >>> 17) | (rot << 15);
    }

}
