package dev.convbert.core.checkpoint;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.convbert.core.safetensors.DType;
import dev.convbert.core.safetensors.SafeTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * Reads a TensorFlow 1 checkpoint (tensor bundle V2) in pure Java: {@code PREFIX.index}, a LevelDB-style table whose
 * key {@code ""} holds the {@code BundleHeaderProto} and every other key a tensor's {@code BundleEntryProto}, and the
 * data shards {@code PREFIX.data-NNNNN-of-MMMMM}. Every table block's CRC and every tensor's CRC32C is verified; nothing
 * is executed and nothing beyond the files' sizes is allocated.
 *
 * <p>Format: tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc} and tensor_bundle.proto; the table is TF's copy of
 * LevelDB's (tensorflow/core/lib/io/table_format.txt), written uncompressed by {@code BundleWriter}.
 */
public final class TfBundle {
    private static final Pattern CHECKPOINT_PATH = Pattern.compile("^model_checkpoint_path:\\s*\"(.*)\"\\s*$", Pattern.MULTILINE);

    private TfBundle() {}

    /** The tensors, in the table's (sorted) order, and those not read, with why (strings, resources, partitions). */
    public record Contents(Path prefix, Map<String, SafeTensor> tensors, Map<String, String> notRead) {}

    private record Entry(String name, int dtype, long[] shape, int shard, long offset, long size, int crc, boolean sliced) {}

    /** Whether {@code path} names a TF checkpoint: a prefix, its {@code .index}, a {@code checkpoint} file or their folder. */
    public static boolean looksLike(Path path) {
        try {
            return prefix(path) != null;
        } catch (CheckpointFormatException e) {
            return false;
        }
    }

    /**
     * The bundle prefix that {@code path} names: {@code model.ckpt-N}, {@code model.ckpt-N.index}, the folder's
     * {@code checkpoint} file (its {@code model_checkpoint_path}), or a folder with exactly one {@code .index}.
     */
    public static Path prefix(Path path) {
        if (Files.isDirectory(path)) {
            Path state = path.resolve("checkpoint");
            if (Files.isRegularFile(state)) {
                return fromStateFile(state);
            }
            List<Path> indexes;
            try (var s = Files.list(path)) {
                indexes = s.filter(p -> p.getFileName().toString().endsWith(".index")).sorted().toList();
            } catch (IOException e) {
                throw new CheckpointFormatException(path, "cannot list: " + e.getMessage(), e);
            }
            if (indexes.size() != 1) {
                throw new CheckpointFormatException(path, "expected one TF checkpoint (*.index) or a 'checkpoint' file, found "
                        + indexes.size() + " .index files" + (indexes.isEmpty() ? "" : ": " + indexes)
                        + "; name the one to read (e.g. " + path.resolve("model.ckpt-1000") + ")");
            }
            return stripIndex(indexes.get(0));
        }
        String name = path.getFileName().toString();
        if (name.equals("checkpoint") && Files.isRegularFile(path)) {
            return fromStateFile(path);
        }
        if (name.endsWith(".index") && Files.isRegularFile(path)) {
            return stripIndex(path);
        }
        if (Files.isRegularFile(indexOf(path))) {
            return path;
        }
        throw new CheckpointFormatException(path, "not a TF checkpoint: neither " + indexOf(path.getFileName())
                + " nor a 'checkpoint' file is there");
    }

    private static Path fromStateFile(Path state) {
        String text;
        try {
            text = Files.readString(state, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CheckpointFormatException(state, "cannot be read: " + e.getMessage(), e);
        }
        Matcher m = CHECKPOINT_PATH.matcher(text);
        if (!m.find()) {
            throw new CheckpointFormatException(state, "has no model_checkpoint_path line; expected model_checkpoint_path: \"model.ckpt-N\"");
        }
        Path named = Path.of(m.group(1));
        // TF writes the path relative to the folder, or absolute as seen by the machine that trained: the folder wins
        Path local = state.getParent().resolve(named.isAbsolute() ? named.getFileName() : named);
        if (!Files.isRegularFile(indexOf(local))) {
            throw new CheckpointFormatException(state, "model_checkpoint_path \"" + m.group(1) + "\" has no "
                    + indexOf(local).getFileName() + " beside it");
        }
        return local;
    }

    private static Path stripIndex(Path index) {
        String n = index.getFileName().toString();
        return index.resolveSibling(n.substring(0, n.length() - ".index".length()));
    }

    private static Path indexOf(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".index");
    }

    /** Reads every tensor of the checkpoint that {@code path} names (see {@link #prefix}). */
    public static Contents read(Path path) throws IOException {
        Path prefix = prefix(path);
        Path indexFile = indexOf(prefix);
        byte[] table = Files.readAllBytes(indexFile);
        Map<String, byte[]> records = new LinkedHashMap<>();
        TfTable.read(indexFile, table, records::put);
        byte[] header = records.remove("");
        if (header == null) {
            throw new CheckpointFormatException(indexFile, "has no bundle header (the entry with the empty key); not a tensor bundle");
        }
        int numShards = parseHeader(indexFile, header);
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, byte[]> r : records.entrySet()) {
            entries.add(parseEntry(indexFile, r.getKey(), r.getValue()));
        }
        return readData(prefix, numShards, entries);
    }

    // ---- the protos ----

    /** BundleHeaderProto: num_shards = 1, endianness = 2 (0 little), version = 3. */
    private static int parseHeader(Path file, byte[] bytes) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        int shards = 0;
        int endianness = 0;
        for (int tag; (tag = in.readTag()) != 0; ) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> shards = in.readInt32();
                case 2 -> endianness = in.readEnum();
                default -> in.skipField(tag);
            }
        }
        if (endianness != 0) {
            throw new CheckpointFormatException(file, "bundle is big-endian; only little-endian checkpoints are read");
        }
        if (shards < 1) {
            throw new CheckpointFormatException(file, "bundle header names " + shards + " data shards; corrupt");
        }
        return shards;
    }

    /** BundleEntryProto: dtype 1, shape 2, shard_id 3, offset 4, size 5, crc32c 6 (fixed32), slices 7. */
    private static Entry parseEntry(Path file, String name, byte[] bytes) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            int dtype = 0, shard = 0, crc = 0;
            long offset = 0, size = 0;
            long[] shape = new long[0];
            boolean sliced = false;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> dtype = in.readEnum();
                    case 2 -> shape = parseShape(file, name, in.readByteArray());
                    case 3 -> shard = in.readInt32();
                    case 4 -> offset = in.readInt64();
                    case 5 -> size = in.readInt64();
                    case 6 -> crc = in.readFixed32();
                    case 7 -> {
                        sliced = true;
                        in.skipField(tag);
                    }
                    default -> in.skipField(tag);
                }
            }
            return new Entry(name, dtype, shape, shard, offset, size, crc, sliced);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "tensor \"" + name + "\": entry record is not a valid BundleEntryProto: "
                    + e.getMessage(), e);
        }
    }

    /** TensorShapeProto: dim = 2 (Dim: size = 1), unknown_rank = 3. */
    private static long[] parseShape(Path file, String name, byte[] bytes) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        List<Long> dims = new ArrayList<>();
        for (int tag; (tag = in.readTag()) != 0; ) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 2 -> {
                    CodedInputStream dim = CodedInputStream.newInstance(in.readByteArray());
                    long size = 0;
                    for (int t; (t = dim.readTag()) != 0; ) {
                        if (WireFormat.getTagFieldNumber(t) == 1) {
                            size = dim.readInt64();
                        } else {
                            dim.skipField(t);
                        }
                    }
                    if (size < 0) {
                        throw new CheckpointFormatException(file, "tensor \"" + name + "\" has dimension " + size);
                    }
                    dims.add(size);
                }
                case 3 -> {
                    if (in.readBool()) {
                        throw new CheckpointFormatException(file, "tensor \"" + name + "\" has an unknown rank");
                    }
                }
                default -> in.skipField(tag);
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    // ---- the data shards ----

    private static Contents readData(Path prefix, int numShards, List<Entry> entries) throws IOException {
        Map<Integer, FileChannel> shards = new HashMap<>();
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        Map<String, String> notRead = new LinkedHashMap<>();
        try {
            for (Entry e : entries) {
                DType dtype = dtype(e.dtype);
                if (e.sliced) {
                    notRead.put(e.name, "a partitioned variable (stored as slices)");
                    continue;
                }
                if (dtype == null) {
                    notRead.put(e.name, "TF dtype " + tfDtypeName(e.dtype));
                    continue;
                }
                if (e.shard < 0 || e.shard >= numShards) {
                    throw new CheckpointFormatException(indexOf(prefix), "tensor \"" + e.name + "\" is in shard " + e.shard
                            + " but the bundle has " + numShards);
                }
                Path dataFile = dataFile(prefix, e.shard, numShards);
                FileChannel shard = shards.get(e.shard);
                if (shard == null) {
                    if (!Files.isRegularFile(dataFile)) {
                        throw new CheckpointFormatException(dataFile, "missing; tensor \"" + e.name + "\" is stored in it");
                    }
                    shard = FileChannel.open(dataFile, StandardOpenOption.READ);
                    shards.put(e.shard, shard);
                }
                long expected = Math.multiplyExact(SafeTensor.numel(e.shape), (long) dtype.bytes());
                if (e.size != expected) {
                    throw new CheckpointFormatException(indexOf(prefix), "tensor \"" + e.name + "\" " + dtype + " "
                            + Arrays.toString(e.shape) + " needs " + expected + " bytes but its entry records " + e.size);
                }
                if (e.offset < 0 || e.offset + e.size > shard.size()) {
                    throw new CheckpointFormatException(dataFile, "tensor \"" + e.name + "\" needs bytes [" + e.offset + ", "
                            + (e.offset + e.size) + ") but the file has " + shard.size() + "; the data file is truncated");
                }
                // one mapping per tensor: shards of large checkpoints exceed the 2 GiB a single mapping can hold
                ByteBuffer data = e.size == 0 ? ByteBuffer.allocate(0)
                        : shard.map(FileChannel.MapMode.READ_ONLY, e.offset, e.size).order(ByteOrder.LITTLE_ENDIAN);
                CRC32C crc = new CRC32C();
                crc.update(data.duplicate());
                if ((int) crc.getValue() != TfTable.unmask(e.crc)) {
                    throw new CheckpointFormatException(dataFile, "tensor \"" + e.name + "\" fails its CRC32C check (stored "
                            + String.format(Locale.ROOT, "%08x, computed %08x", TfTable.unmask(e.crc), (int) crc.getValue())
                            + "); the data file is corrupt");
                }
                tensors.put(e.name, new SafeTensor(e.name, dtype, e.shape, data.asReadOnlyBuffer()));
            }
        } finally {
            for (FileChannel ch : shards.values()) {
                ch.close();
            }
        }
        return new Contents(prefix, tensors, notRead);
    }

    private static Path dataFile(Path prefix, int shard, int numShards) {
        return prefix.resolveSibling(prefix.getFileName() + String.format(Locale.ROOT, ".data-%05d-of-%05d", shard, numShards));
    }

    /** TF's DataType enum (types.proto) to our element types; {@code null} for strings, resources and the like. */
    private static DType dtype(int tf) {
        return switch (tf) {
            case 1 -> DType.F32;
            case 2 -> DType.F64;
            case 3 -> DType.I32;
            case 4 -> DType.U8;
            case 5 -> DType.I16;
            case 6 -> DType.I8;
            case 9 -> DType.I64;
            case 10 -> DType.BOOL;
            case 14 -> DType.BF16;
            case 17 -> DType.U16;
            case 19 -> DType.F16;
            case 22 -> DType.U32;
            case 23 -> DType.U64;
            default -> null;
        };
    }

    private static String tfDtypeName(int tf) {
        return switch (tf) {
            case 7 -> "DT_STRING";
            case 8 -> "DT_COMPLEX64";
            case 18 -> "DT_COMPLEX128";
            case 20 -> "DT_RESOURCE";
            case 21 -> "DT_VARIANT";
            default -> "enum " + tf;
        };
    }
}
