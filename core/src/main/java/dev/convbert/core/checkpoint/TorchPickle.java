package dev.convbert.core.checkpoint;

import dev.convbert.core.safetensors.DType;
import dev.convbert.core.safetensors.SafeTensor;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads a PyTorch state dict saved with {@code torch.save} ({@code pytorch_model.bin}) without Python and without
 * executing anything: a restricted unpickler that knows the few opcodes and globals a state dict needs
 * ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, {@code _rebuild_parameter}, the
 * {@code torch.*Storage} types) and refuses every other global by name. Python's {@code torch.load} would import and
 * call whatever the file names; here a name outside the list is an error, and the listed ones only build data.
 *
 * <p>Both layouts are read: the zip format (torch ≥ 1.6: {@code <name>/data.pkl} + one entry per storage) and the legacy
 * format (magic number, protocol 1001, system info, the pickle, the storage keys, then each storage as an int64
 * element count and raw little-endian bytes). Shared storages, storage offsets, storage views and non-contiguous
 * strides are resolved into row-major tensors.
 */
public final class TorchPickle {
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    /** Memo and stack sizes far above any state dict's; a hostile pickle cannot grow them without bound. */
    private static final int MAX_OBJECTS = 10_000_000;

    private TorchPickle() {}

    /** The tensors under their state-dict names (nested dicts joined with '.'), and the entries that are not tensors. */
    public record Contents(Map<String, SafeTensor> tensors, Map<String, String> notRead, String format) {}

    /** A storage as the pickle names it. */
    record Storage(DType dtype, String key, long numel, String location) {}

    /** A legacy storage view: {@code numel} elements of {@code root} from {@code offset}. */
    record View(Storage root, long offset, long numel) {}

    /** What {@code _rebuild_tensor_v2} returns: a strided view of a storage (offset and strides in elements). */
    record TensorRef(Object storage, long offset, long[] size, long[] stride) {}

    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    private record Tuple(List<Object> items) {}

    private static final Object MARK = new Object();

    /** The storage types a state dict refers to, by {@code torch.<Name>}. */
    private static final Map<String, DType> STORAGES = Map.of(
            "FloatStorage", DType.F32, "DoubleStorage", DType.F64, "HalfStorage", DType.F16,
            "BFloat16Storage", DType.BF16, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);

    public static boolean isZip(Path file) throws IOException {
        byte[] head = head(file, 4);
        return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    public static Contents read(Path file) throws IOException {
        if (isZip(file)) {
            return readZip(file);
        }
        byte[] head = head(file, 2);
        if (head.length == 2 && (head[0] & 0xff) == 0x80) {
            return readLegacy(file);
        }
        byte[] tar = head(file, 262);
        if (tar.length == 262 && new String(tar, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) {
            throw new CheckpointFormatException(file, "is a PyTorch checkpoint in the pre-0.4 tar format, which is not read; "
                    + "re-save it with torch ≥ 1.6: torch.save(torch.load(f), 'pytorch_model.bin'), or as safetensors");
        }
        throw new CheckpointFormatException(file, "is neither a zip-format nor a legacy torch.save file (it does not start "
                + "with 'PK' or a pickle protocol byte)");
    }

    // ---- zip format ----

    private static Contents readZip(Path file) throws IOException {
        try (ZipFile zip = openZip(file)) {
            Set<String> names = new HashSet<>();
            for (ZipEntry e : zip.stream().toList()) {
                if (!names.add(e.getName())) {
                    // readers disagree on which copy wins (PyTorch takes the first, java.util.zip the last)
                    throw new CheckpointFormatException(file, "zip holds two entries named " + e.getName()
                            + "; a torch.save file names each record once");
                }
            }
            List<? extends ZipEntry> pickles = zip.stream().filter(e -> e.getName().endsWith("data.pkl")
                    && e.getName().indexOf('/') == e.getName().length() - "data.pkl".length() - 1).toList();
            if (pickles.size() != 1) {
                throw new CheckpointFormatException(file, "zip holds " + pickles.size() + " '<name>/data.pkl' records; "
                        + "a torch.save file holds exactly one");
            }
            String root = pickles.get(0).getName().substring(0, pickles.get(0).getName().length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(root + "byteorder");
            if (order != null) {
                String o = new String(bytes(zip, order, file, -1), StandardCharsets.US_ASCII).trim();
                if (!o.equals("little")) {
                    throw new CheckpointFormatException(file, "was saved with byte order \"" + o + "\"; only little-endian is read");
                }
            }
            byte[] pickle = bytes(zip, pickles.get(0), file, -1);
            Unpickler u = new Unpickler(file, ByteBuffer.wrap(pickle), TorchPickle::storageFromZipId);
            Object result = u.load();
            Map<String, ByteBuffer> data = new HashMap<>();
            Function<Storage, ByteBuffer> loader = s -> data.computeIfAbsent(s.key(), k -> {
                ZipEntry e = zip.getEntry(root + "data/" + k);
                if (e == null) {
                    throw new CheckpointFormatException(file, "storage " + k + " is missing (no entry " + root + "data/" + k + ")");
                }
                try {
                    return ByteBuffer.wrap(bytes(zip, e, file, Math.multiplyExact(s.numel(), (long) s.dtype().bytes())));
                } catch (IOException ex) {
                    throw new CheckpointFormatException(file, "storage " + k + " cannot be read: " + ex.getMessage(), ex);
                }
            });
            return collect(file, result, loader, "torch zip (" + root.substring(0, root.length() - 1) + "/data.pkl)");
        }
    }

    private static ZipFile openZip(Path file) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (java.util.zip.ZipException e) {
            throw new CheckpointFormatException(file, "starts like a zip (torch.save's format) but is not a readable zip"
                    + " archive (" + e.getMessage() + "); the file is damaged or truncated: download it again");
        }
    }

    private static Storage storageFromZipId(Path file, Object pid) {
        List<Object> t = tuple(file, pid, "persistent id");
        if (t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new CheckpointFormatException(file, "persistent id " + describe(pid)
                    + " is not ('storage', type, key, location, numel)");
        }
        return new Storage(storageType(file, t.get(1)), string(file, t.get(2), "storage key"), count(file, t.get(4), "numel"),
                string(file, t.get(3), "location"));
    }

    /** The entry's bytes; {@code expected} is its required size, or -1 for any size up to 2 GiB. */
    private static byte[] bytes(ZipFile zip, ZipEntry e, Path file, long expected) throws IOException {
        long size = e.getSize();
        if (size < 0 || size > Integer.MAX_VALUE - 8 || (expected >= 0 && size != expected)) {
            throw new CheckpointFormatException(file, "entry " + e.getName() + " is " + size + " bytes; expected "
                    + (expected >= 0 ? expected : "at most 2 GiB"));
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) size);
            if (b.length != size) {
                throw new CheckpointFormatException(file, "entry " + e.getName() + " is truncated");
            }
            return b;
        } catch (java.util.zip.ZipException | java.io.EOFException ex) {
            throw new CheckpointFormatException(file, "entry " + e.getName() + " cannot be read (" + ex.getMessage()
                    + "); the archive is damaged", ex);
        }
    }

    // ---- legacy format ----

    private static Contents readLegacy(Path file) throws IOException {
        ByteBuffer all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(file, "legacy torch.save file over 2 GiB; re-save it with torch ≥ 1.6 "
                        + "(zip format) or as safetensors");
            }
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
        Map<String, Storage> roots = new LinkedHashMap<>();
        Map<String, View> views = new HashMap<>();
        Object magic = new Unpickler(file, all, TorchPickle::noPersistentIds).load();
        if (!LEGACY_MAGIC.equals(magic instanceof Long l ? BigInteger.valueOf(l) : magic)) {
            throw new CheckpointFormatException(file, "legacy torch.save magic number is wrong; not a PyTorch file");
        }
        Object protocol = new Unpickler(file, all, TorchPickle::noPersistentIds).load();
        if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
            throw new CheckpointFormatException(file, "legacy torch.save protocol " + protocol + "; expected 1001");
        }
        Object sysInfo = new Unpickler(file, all, TorchPickle::noPersistentIds).load();
        if (sysInfo instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("little_endian"))) {
            throw new CheckpointFormatException(file, "was saved on a big-endian machine; only little-endian is read");
        }
        Object result = new Unpickler(file, all, (f, pid) -> {
            List<Object> t = tuple(f, pid, "persistent id");
            if (t.size() != 6 || !"storage".equals(t.get(0))) {
                throw new CheckpointFormatException(f, "persistent id " + describe(pid)
                        + " is not ('storage', type, root_key, location, numel, view_metadata)");
            }
            Storage root = roots.computeIfAbsent(string(f, t.get(2), "storage key"), k -> new Storage(
                    storageType(f, t.get(1)), k, count(f, t.get(4), "numel"), string(f, t.get(3), "location")));
            if (t.get(5) == null) {
                return root;
            }
            List<Object> v = tuple(f, t.get(5), "view metadata");
            String viewKey = string(f, v.get(0), "view key");
            return views.computeIfAbsent(viewKey, k -> new View(root, count(f, v.get(1), "view offset"), count(f, v.get(2), "view size")));
        }).load();
        Object keys = new Unpickler(file, all, TorchPickle::noPersistentIds).load();
        if (!(keys instanceof List<?> keyList)) {
            throw new CheckpointFormatException(file, "legacy storage key list is " + describe(keys) + ", not a list");
        }
        Map<String, ByteBuffer> data = new HashMap<>();
        for (Object k : keyList) {
            Storage s = roots.get(k);
            if (s == null) {
                throw new CheckpointFormatException(file, "legacy storage key " + describe(k) + " is not used by any tensor");
            }
            if (all.remaining() < 8) {
                throw new CheckpointFormatException(file, "truncated before storage " + k);
            }
            long numel = all.getLong();
            if (numel != s.numel()) {
                throw new CheckpointFormatException(file, "storage " + k + " holds " + numel + " elements; the pickle says " + s.numel());
            }
            long bytes = Math.multiplyExact(numel, (long) s.dtype().bytes());
            if (bytes > all.remaining()) {
                throw new CheckpointFormatException(file, "storage " + k + " needs " + bytes + " bytes but " + all.remaining()
                        + " remain; the file is truncated");
            }
            data.put(s.key(), all.slice(all.position(), (int) bytes));
            all.position(all.position() + (int) bytes);
        }
        return collect(file, result, s -> {
            ByteBuffer b = data.get(s.key());
            if (b == null) {
                throw new CheckpointFormatException(file, "storage " + s.key() + " is not in the file's storage list");
            }
            return b;
        }, "torch legacy (pre-1.6)");
    }

    private static Object noPersistentIds(Path file, Object pid) {
        throw new CheckpointFormatException(file, "unexpected persistent id " + describe(pid) + " outside the state dict");
    }

    // ---- tensors ----

    private static Contents collect(Path file, Object result, Function<Storage, ByteBuffer> data, String format) {
        if (!(result instanceof Map<?, ?> map)) {
            throw new CheckpointFormatException(file, "holds " + describe(result) + ", not a state dict (a dict of tensors)");
        }
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        Map<String, String> notRead = new LinkedHashMap<>();
        flatten(file, "", map, data, tensors, notRead);
        return new Contents(tensors, notRead, format);
    }

    private static void flatten(Path file, String prefix, Map<?, ?> map, Function<Storage, ByteBuffer> data,
                                Map<String, SafeTensor> tensors, Map<String, String> notRead) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = prefix + e.getKey();
            if (e.getValue() instanceof TensorRef t) {
                tensors.put(name, materialise(file, name, t, data));
            } else if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(file, name + ".", nested, data, tensors, notRead);
            } else {
                notRead.put(name, "not a tensor: " + describe(e.getValue()));
            }
        }
    }

    /** The tensor's elements in row-major order, copied out of its storage by offset and strides. */
    private static SafeTensor materialise(Path file, String name, TensorRef t, Function<Storage, ByteBuffer> data) {
        Storage storage;
        long base;
        long available;
        if (t.storage() instanceof View v) {
            storage = v.root();
            base = v.offset();
            available = v.numel();
        } else if (t.storage() instanceof Storage s) {
            storage = s;
            base = 0;
            available = s.numel();
        } else {
            throw new CheckpointFormatException(file, "tensor \"" + name + "\" is not backed by a storage");
        }
        DType dtype = storage.dtype();
        int es = dtype.bytes();
        if (t.size().length != t.stride().length) {
            throw new CheckpointFormatException(file, "tensor \"" + name + "\" has size " + Arrays.toString(t.size())
                    + " but stride " + Arrays.toString(t.stride()));
        }
        long numel;
        long last = t.offset();
        try {
            numel = SafeTensor.numel(t.size());
            for (int d = 0; d < t.size().length; d++) {
                if (t.stride()[d] < 0 || t.size()[d] < 0) {
                    throw new CheckpointFormatException(file, "tensor \"" + name + "\" has a negative size or stride");
                }
                last = Math.addExact(last, Math.multiplyExact(Math.max(0, t.size()[d] - 1), t.stride()[d]));
            }
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, "tensor \"" + name + "\" has size " + Arrays.toString(t.size())
                    + " and stride " + Arrays.toString(t.stride()) + ", whose element count or extent overflows 64 bits");
        }
        if (numel > available) {
            // only views that repeat elements (stride 0, overlapping strides) hold more than their storage; copying
            // them out would let a file of a few hundred bytes claim gigabytes, and no model parameter is such a view
            throw new CheckpointFormatException(file, "tensor \"" + name + "\" (size " + Arrays.toString(t.size()) + ", stride "
                    + Arrays.toString(t.stride()) + ") has " + numel + " elements but its storage only " + available
                    + "; a view that repeats its storage's elements is not a model parameter (save it with .contiguous())");
        }
        if (numel > 0 && (t.offset() < 0 || last >= available)) {
            throw new CheckpointFormatException(file, "tensor \"" + name + "\" (offset " + t.offset() + ", size "
                    + Arrays.toString(t.size()) + ", stride " + Arrays.toString(t.stride()) + ") reaches element " + last
                    + " of a storage of " + available);
        }
        ByteBuffer src = data.apply(storage).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (src.capacity() != Math.multiplyExact(storage.numel(), (long) es)) {
            throw new CheckpointFormatException(file, "storage " + storage.key() + " holds " + src.capacity() + " bytes; "
                    + storage.numel() + " " + dtype + " elements need " + storage.numel() * es);
        }
        long start = (base + t.offset()) * es;
        if (numel == 0) {
            return new SafeTensor(name, dtype, t.size(), ByteBuffer.allocate(0));
        }
        if (isContiguous(t.size(), t.stride())) {
            return new SafeTensor(name, dtype, t.size(), src.slice((int) start, (int) (numel * es)).asReadOnlyBuffer());
        }
        byte[] out = new byte[Math.toIntExact(numel * es)];
        int rank = t.size().length;
        long[] index = new long[rank];
        for (long i = 0; i < numel; i++) {
            long at = start;
            for (int d = 0; d < rank; d++) {
                at += index[d] * t.stride()[d] * es;
            }
            src.get((int) at, out, (int) (i * es), es);
            for (int d = rank - 1; d >= 0 && ++index[d] == t.size()[d]; d--) {
                index[d] = 0;
            }
        }
        return new SafeTensor(name, dtype, t.size(), ByteBuffer.wrap(out).asReadOnlyBuffer());
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= size[d];
        }
        return true;
    }

    // ---- small helpers over unpickled values ----

    private static DType storageType(Path file, Object o) {
        if (o instanceof Global g && g.module().equals("torch") && STORAGES.containsKey(g.name())) {
            return STORAGES.get(g.name());
        }
        throw new CheckpointFormatException(file, "storage type " + describe(o) + " is not one of torch."
                + String.join(", torch.", STORAGES.keySet().stream().sorted().toList()));
    }

    private static List<Object> tuple(Path file, Object o, String what) {
        if (o instanceof Tuple t) {
            return t.items();
        }
        throw new CheckpointFormatException(file, what + " is " + describe(o) + ", not a tuple");
    }

    private static String string(Path file, Object o, String what) {
        if (o instanceof String s) {
            return s;
        }
        throw new CheckpointFormatException(file, what + " is " + describe(o) + ", not a string");
    }

    private static long count(Path file, Object o, String what) {
        if (o instanceof Long l && l >= 0) {
            return l;
        }
        throw new CheckpointFormatException(file, what + " is " + describe(o) + ", not a non-negative integer");
    }

    private static long[] longs(Path file, Object o, String what) {
        List<Object> items = tuple(file, o, what);
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long l)) {
                throw new CheckpointFormatException(file, what + " " + describe(o) + " holds a non-integer");
            }
            out[i] = l;
        }
        return out;
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Tuple t) {
            return "(" + String.join(", ", t.items().stream().map(TorchPickle::describe).toList()) + ")";
        }
        if (o instanceof String s) {
            return "'" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'";
        }
        if (o instanceof Map<?, ?> m) {
            return "a dict of " + m.size();
        }
        if (o instanceof List<?> l) {
            return "a list of " + l.size();
        }
        if (o instanceof TensorRef) {
            return "a tensor";
        }
        return o.toString();
    }

    private static byte[] head(Path file, int n) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        }
    }

    // ---- the unpickler ----

    @FunctionalInterface
    private interface PersistentLoad {
        Object load(Path file, Object pid);
    }

    /** A pickle virtual machine restricted to the opcodes and globals of a state dict; it only builds data. */
    private static final class Unpickler {
        private final Path file;
        private final ByteBuffer in;
        private final PersistentLoad persistentLoad;
        private final List<Object> stack = new ArrayList<>();
        private final List<Integer> marks = new ArrayList<>();
        private final Map<Long, Object> memo = new HashMap<>();

        Unpickler(Path file, ByteBuffer in, PersistentLoad persistentLoad) {
            this.file = file;
            this.in = in.order(ByteOrder.LITTLE_ENDIAN);
            this.persistentLoad = persistentLoad;
        }

        Object load() {
            try {
                return run();
            } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
                throw bad(in.position(), "pickle ends in the middle of an opcode; the file is truncated");
            }
        }

        private Object run() {
            while (true) {
                int at = in.position();
                if (!in.hasRemaining()) {
                    throw bad(at, "pickle ends without STOP; the file is truncated");
                }
                int op = in.get() & 0xff;
                switch (op) {
                    case 0x80 -> in.get();                                      // PROTO
                    case 0x95 -> in.getLong();                                  // FRAME
                    case '.' -> {                                               // STOP
                        if (stack.size() != 1) {
                            throw bad(at, "STOP with " + stack.size() + " objects on the stack");
                        }
                        return stack.remove(0);
                    }
                    case '(' -> marks.add(stack.size());                        // MARK
                    case '}' -> push(new LinkedHashMap<>());                    // EMPTY_DICT
                    case ']' -> push(new ArrayList<>());                        // EMPTY_LIST
                    case ')' -> push(new Tuple(List.of()));                     // EMPTY_TUPLE
                    case 't' -> push(new Tuple(popMark(at)));                   // TUPLE
                    case 0x85 -> push(new Tuple(popN(1, at)));                  // TUPLE1
                    case 0x86 -> push(new Tuple(popN(2, at)));                  // TUPLE2
                    case 0x87 -> push(new Tuple(popN(3, at)));                  // TUPLE3
                    case 'q' -> memo(in.get() & 0xff, at);                      // BINPUT
                    case 'r' -> memo(Integer.toUnsignedLong(in.getInt()), at);  // LONG_BINPUT
                    case 0x94 -> memo(memo.size(), at);                         // MEMOIZE
                    case 'h' -> push(recall(in.get() & 0xff, at));              // BINGET
                    case 'j' -> push(recall(Integer.toUnsignedLong(in.getInt()), at)); // LONG_BINGET
                    case 'X' -> push(text(Integer.toUnsignedLong(in.getInt()), StandardCharsets.UTF_8, at)); // BINUNICODE
                    case 0x8c -> push(text(in.get() & 0xff, StandardCharsets.UTF_8, at));            // SHORT_BINUNICODE
                    case 0x8d -> push(text(in.getLong(), StandardCharsets.UTF_8, at));               // BINUNICODE8
                    case 'U' -> push(text(in.get() & 0xff, StandardCharsets.ISO_8859_1, at));        // SHORT_BINSTRING
                    case 'T' -> push(text(Integer.toUnsignedLong(in.getInt()), StandardCharsets.ISO_8859_1, at)); // BINSTRING
                    case 'C' -> push(raw(in.get() & 0xff, at));                                      // SHORT_BINBYTES
                    case 'B' -> push(raw(Integer.toUnsignedLong(in.getInt()), at));                  // BINBYTES
                    case 'J' -> push((long) in.getInt());                       // BININT
                    case 'K' -> push((long) (in.get() & 0xff));                 // BININT1
                    case 'M' -> push((long) (in.getShort() & 0xffff));          // BININT2
                    case 0x8a -> push(longN(in.get() & 0xff, at));              // LONG1
                    case 0x8b -> push(longN(Integer.toUnsignedLong(in.getInt()), at)); // LONG4
                    case 'N' -> push(null);                                     // NONE
                    case 0x88 -> push(Boolean.TRUE);                            // NEWTRUE
                    case 0x89 -> push(Boolean.FALSE);                           // NEWFALSE
                    case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT (big-endian)
                    case 'c' -> push(global(line(at), line(at), at));           // GLOBAL
                    case 0x93 -> {                                              // STACK_GLOBAL
                        List<Object> mn = popN(2, at);
                        if (!(mn.get(0) instanceof String m) || !(mn.get(1) instanceof String n)) {
                            throw bad(at, "STACK_GLOBAL needs two strings");
                        }
                        push(global(m, n, at));
                    }
                    case 'R' -> {                                               // REDUCE
                        List<Object> fa = popN(2, at);
                        push(call(fa.get(0), tuple(file, fa.get(1), "REDUCE arguments"), at));
                    }
                    case 'b' -> build(popN(1, at).get(0), at);                  // BUILD
                    case 'Q' -> push(persistentLoad.load(file, popN(1, at).get(0))); // BINPERSID
                    case 's' -> {                                               // SETITEM
                        List<Object> kv = popN(2, at);
                        dict(top(at), at).put(kv.get(0), kv.get(1));
                    }
                    case 'u' -> {                                               // SETITEMS
                        List<Object> kv = popMark(at);
                        if (kv.size() % 2 != 0) {
                            throw bad(at, "SETITEMS with an odd number of items");
                        }
                        Map<Object, Object> d = dict(top(at), at);
                        for (int i = 0; i < kv.size(); i += 2) {
                            d.put(kv.get(i), kv.get(i + 1));
                        }
                    }
                    case 'a' -> {                                               // APPEND
                        Object item = popN(1, at).get(0);
                        list(top(at), at).add(item);
                    }
                    case 'e' -> {                                               // APPENDS
                        List<Object> items = popMark(at);
                        list(top(at), at).addAll(items);
                    }
                    case '0' -> popN(1, at);                                    // POP
                    default -> throw bad(at, String.format(Locale.ROOT, "pickle opcode 0x%02x ('%c') is not allowed in a "
                            + "state dict; nothing was executed", op, op >= 32 && op < 127 ? (char) op : '?'));
                }
            }
        }

        /** Only names that build data are allowed; anything else (os.system, builtins.eval, …) is refused by name. */
        private Object global(String module, String name, int at) {
            Global g = new Global(module, name);
            boolean allowed = switch (g.toString()) {
                case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
                     "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> true;
                default -> module.equals("torch") && STORAGES.containsKey(name);
            };
            if (!allowed) {
                throw bad(at, "pickle global " + g + " is not allowed: a state dict needs only collections.OrderedDict, "
                        + "torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage; nothing was executed. "
                        + "If this file should be trusted, convert it to safetensors where it was made");
            }
            return g;
        }

        private Object call(Object callable, List<Object> args, int at) {
            if (!(callable instanceof Global g)) {
                throw bad(at, "REDUCE on " + describe(callable) + ", which is not an allowed global");
            }
            switch (g.toString()) {
                case "collections.OrderedDict" -> {
                    if (!args.isEmpty()) {
                        throw bad(at, "OrderedDict called with arguments");
                    }
                    return new LinkedHashMap<>();
                }
                case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                    if (args.size() < 4) {
                        throw bad(at, "_rebuild_tensor with " + args.size() + " arguments; expected storage, offset, size, stride");
                    }
                    Object storage = args.get(0);
                    if (!(storage instanceof Storage) && !(storage instanceof View)) {
                        throw bad(at, "_rebuild_tensor on " + describe(storage) + ", not a storage");
                    }
                    return new TensorRef(storage, count(file, args.get(1), "storage offset"),
                            longs(file, args.get(2), "size"), longs(file, args.get(3), "stride"));
                }
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                    if (args.isEmpty() || !(args.get(0) instanceof TensorRef)) {
                        throw bad(at, "_rebuild_parameter without a tensor");
                    }
                    return args.get(0);
                }
                default -> throw bad(at, g + " cannot be called (it is a type, not a constructor of a state dict)");
            }
        }

        /** BUILD sets attributes: an OrderedDict's {@code _metadata} (module versions) is all a state dict carries. */
        private void build(Object state, int at) {
            Object target = top(at);
            if (!(target instanceof Map<?, ?>) && !(target instanceof TensorRef && state == null)) {
                throw bad(at, "BUILD on " + describe(target) + " is not part of a state dict");
            }
        }

        private void push(Object o) {
            if (stack.size() >= MAX_OBJECTS) {
                throw bad(in.position(), "more than " + MAX_OBJECTS + " objects on the stack");
            }
            stack.add(o);
        }

        private Object top(int at) {
            if (stack.isEmpty()) {
                throw bad(at, "stack is empty");
            }
            return stack.get(stack.size() - 1);
        }

        private List<Object> popN(int n, int at) {
            int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
            if (stack.size() - n < floor) {
                throw bad(at, "stack underflow");
            }
            List<Object> sub = stack.subList(stack.size() - n, stack.size());
            List<Object> out = new ArrayList<>(sub);
            sub.clear();
            return out;
        }

        private List<Object> popMark(int at) {
            if (marks.isEmpty()) {
                throw bad(at, "no MARK on the stack");
            }
            int from = marks.remove(marks.size() - 1);
            List<Object> sub = stack.subList(from, stack.size());
            List<Object> out = new ArrayList<>(sub);
            sub.clear();
            return out;
        }

        private void memo(long index, int at) {
            if (memo.size() >= MAX_OBJECTS) {
                throw bad(at, "memo holds more than " + MAX_OBJECTS + " objects");
            }
            memo.put(index, top(at));
        }

        private Object recall(long index, int at) {
            if (!memo.containsKey(index)) {
                throw bad(at, "memo slot " + index + " was never set");
            }
            return memo.get(index);
        }

        private byte[] raw(long n, int at) {
            if (n < 0 || n > in.remaining()) {
                throw bad(at, "a " + n + "-byte value runs past the end of the pickle; the file is truncated");
            }
            byte[] b = new byte[(int) n];
            in.get(b);
            return b;
        }

        private String text(long n, java.nio.charset.Charset cs, int at) {
            return new String(raw(n, at), cs);
        }

        private Object longN(long n, int at) {
            byte[] le = raw(n, at);
            byte[] be = new byte[le.length];
            for (int i = 0; i < le.length; i++) {
                be[i] = le[le.length - 1 - i];
            }
            BigInteger v = le.length == 0 ? BigInteger.ZERO : new BigInteger(be);
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        }

        private String line(int at) {
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (!in.hasRemaining() || sb.length() > 1000) {
                    throw bad(at, "GLOBAL name is not terminated");
                }
                byte b = in.get();
                if (b == '\n') {
                    return sb.toString();
                }
                sb.append((char) (b & 0xff));
            }
        }

        @SuppressWarnings("unchecked")
        private Map<Object, Object> dict(Object o, int at) {
            if (o instanceof Map<?, ?> m) {
                return (Map<Object, Object>) m;
            }
            throw bad(at, "SETITEM on " + describe(o) + ", not a dict");
        }

        @SuppressWarnings("unchecked")
        private List<Object> list(Object o, int at) {
            if (o instanceof List<?> l) {
                return (List<Object>) l;
            }
            throw bad(at, "APPEND on " + describe(o) + ", not a list");
        }

        private CheckpointFormatException bad(int at, String message) {
            return new CheckpointFormatException(file, "pickle byte " + at + ": " + message);
        }
    }

}
