package dev.convbert.trainer.pretrain;

import dev.convbert.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The pre-training shard format (documented in docs/PRETRAIN_DATA.md), little-endian, memory-mappable:
 * <pre>
 * 0   8  magic "CBPTSHD1"
 * 8   4  vocab size (u32)        12  4  max length (u32)
 * 16  8  example count n (u64)   24  8  token count T (u64)
 * 32     offsets: (n+1) × u64, example i = tokens[offsets[i], offsets[i+1])
 *        first-segment lengths: n × u16 (length of [CLS] A [SEP])
 *        tokens: T × u16 (ids; vocabularies up to 65,535)
 * </pre>
 */
public final class ShardFormat {
    static final byte[] MAGIC = "CBPTSHD1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final int HEADER = 32;

    private ShardFormat() {}

    public static void write(Path file, List<ExampleBuilder.Example> examples, int vocabSize, int maxLength) throws IOException {
        if (vocabSize > 65_535) {
            throw new dev.convbert.core.InvalidInputException("vocabulary of " + vocabSize + " tokens does not fit u16 ids");
        }
        long tokens = examples.stream().mapToLong(e -> e.ids().length).sum();
        int n = examples.size();
        long size = HEADER + 8L * (n + 1) + 2L * n + 2L * tokens;
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(vocabSize).putInt(maxLength).putLong(n).putLong(tokens);
        long offset = 0;
        for (ExampleBuilder.Example e : examples) {
            b.putLong(offset);
            offset += e.ids().length;
        }
        b.putLong(offset);
        for (ExampleBuilder.Example e : examples) {
            b.putShort((short) e.firstSegmentLength());
        }
        for (ExampleBuilder.Example e : examples) {
            for (int id : e.ids()) {
                b.putShort((short) id);
            }
        }
        byte[] bytes = b.array();
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /** A memory-mapped shard. */
    public static final class Reader {
        private final MappedByteBuffer map;
        private final int count;
        private final long offsetsAt;
        private final long segmentsAt;
        private final long tokensAt;

        public Reader(Path file) throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            }
            map.order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[8];
            map.get(0, magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException(file + ": not a pre-training shard (bad magic); rebuild with 'convbert build-data'");
            }
            count = Math.toIntExact(map.getLong(16));
            long tokens = map.getLong(24);
            offsetsAt = HEADER;
            segmentsAt = offsetsAt + 8L * (count + 1);
            tokensAt = segmentsAt + 2L * count;
            if (tokensAt + 2 * tokens != map.capacity()) {
                throw new IOException(file + ": size " + map.capacity() + " does not match its header (" + count
                        + " examples, " + tokens + " tokens); the shard is truncated or corrupt");
            }
        }

        public int size() {
            return count;
        }

        public int[] ids(int i) {
            long from = map.getLong((int) (offsetsAt + 8L * i));
            long to = map.getLong((int) (offsetsAt + 8L * (i + 1)));
            int[] out = new int[(int) (to - from)];
            for (int k = 0; k < out.length; k++) {
                out[k] = map.getShort((int) (tokensAt + 2 * (from + k))) & 0xffff;
            }
            return out;
        }

        public int firstSegmentLength(int i) {
            return map.getShort((int) (segmentsAt + 2L * i)) & 0xffff;
        }
    }
}
