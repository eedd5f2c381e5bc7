package dev.convbert.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.TestData;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.safetensors.SafeTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint readers against the interop fixtures' expected listings, and against damaged or hostile files. */
class CheckpointReadersTest {

    /** Each fixture's {@code expected-inspect.json} was made by independent tools (TF's reader, torch). */
    @ParameterizedTest
    @ValueSource(strings = {"tf-real-t2t/model.ckpt-1", "public-tiny/tf", "public-grouped/tf/checkpoint",
            "public-tiny/bin/pytorch_model.bin", "public-grouped/bin/pytorch_model.bin"})
    void listingEqualsTheExpectedOne(String fixture) throws IOException {
        Path path = TestData.path("interop").resolve(fixture);
        Path folder = Files.isDirectory(path) ? path : path.getParent();
        JsonNode expected = new ObjectMapper().readTree(folder.resolve("expected-inspect.json").toFile());
        Checkpoint c = Checkpoint.read(path);
        assertEquals(expected.size(), c.tensors().size(), "tensor count");
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            SafeTensor t = c.tensors().get(e.getKey());
            assertTrue(t != null, "missing " + e.getKey());
            assertEquals(e.getValue().get("dtype").asText(), t.dtype().name(), e.getKey());
            long[] shape = new long[e.getValue().get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.getValue().get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, t.shape(), e.getKey());
            assertEquals(e.getValue().get("sha256").asText(), Hashing.sha256(t.data()), e.getKey());
        }
    }

    @Test
    void corruptTensorDataIsRefusedNamingTheTensor(@TempDir Path tmp) throws IOException {
        Path dir = copyBundle(tmp);
        Path data = dir.resolve("model.ckpt-1000.data-00000-of-00001");
        byte[] b = Files.readAllBytes(data);
        b[b.length - 3] ^= 0x10;
        Files.write(data, b);
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(dir.resolve("model.ckpt-1000")));
        assertTrue(e.getMessage().contains("CRC32C") && e.getMessage().contains("tensor \""), e.getMessage());
    }

    @Test
    void truncatedDataShardIsRefusedNamingTheTensor(@TempDir Path tmp) throws IOException {
        Path dir = copyBundle(tmp);
        Path data = dir.resolve("model.ckpt-1000.data-00000-of-00001");
        byte[] b = Files.readAllBytes(data);
        Files.write(data, java.util.Arrays.copyOf(b, b.length / 2));
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(dir));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("tensor \""), e.getMessage());
    }

    @Test
    void corruptIndexBlockIsRefused(@TempDir Path tmp) throws IOException {
        Path dir = copyBundle(tmp);
        Path index = dir.resolve("model.ckpt-1000.index");
        byte[] b = Files.readAllBytes(index);
        b[40] ^= 0x01;
        Files.write(index, b);
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(dir));
        assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    }

    @Test
    void foreignPickleGlobalIsRefusedByNameAndNeverRun(@TempDir Path tmp) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).global("os", "system").unicode("touch " + tmp.resolve("pwned")).op(0x85).op('R').op('.');
        Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of());
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("os.system") && e.getMessage().contains("not allowed"), e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("pwned")));
    }

    @Test
    void disallowedOpcodeIsRefused(@TempDir Path tmp) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).op('}').op('(').op('i').ascii("os\nsystem\n").op('.');   // INST: calls while unpickling
        Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of());
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("opcode 0x69"), e.getMessage());
    }

    /**
     * One storage shared by a contiguous [2,3] tensor, its transpose (strides (1,3)) and a view at offset 2; and an
     * fp16 storage — what torch writes for tied weights, transposed views and half-precision checkpoints.
     */
    @Test
    void sharedStoragesOffsetsStridesAndHalfPrecision(@TempDir Path tmp) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).op('}').op('(');
        p.unicode("w").tensor("FloatStorage", "0", 6, 0, new int[]{2, 3}, new int[]{3, 1});
        p.unicode("w_t").tensor("FloatStorage", "0", 6, 0, new int[]{3, 2}, new int[]{1, 3});
        p.unicode("tail").tensor("FloatStorage", "0", 6, 2, new int[]{2, 2}, new int[]{1, 2});
        p.unicode("h").tensor("HalfStorage", "1", 2, 0, new int[]{2}, new int[]{1});
        p.op('u').op('.');
        ByteBuffer floats = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            floats.putFloat(i);
        }
        byte[] half = {0x00, 0x3c, 0x00, (byte) 0xc0};   // 1.0, -2.0
        Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of("0", floats.array(), "1", half));
        Checkpoint c = Checkpoint.read(file);
        assertArrayEquals(new float[]{0, 1, 2, 3, 4, 5}, c.tensors().get("w").toFloats());
        assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, c.tensors().get("w_t").toFloats());
        assertArrayEquals(new long[]{3, 2}, c.tensors().get("w_t").shape());
        assertArrayEquals(new float[]{2, 4, 3, 5}, c.tensors().get("tail").toFloats());
        assertArrayEquals(new float[]{1, -2}, c.tensors().get("h").toFloats());
    }

    @Test
    void tensorReachingPastItsStorageIsRefused(@TempDir Path tmp) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).op('}').op('(');
        p.unicode("w").tensor("FloatStorage", "0", 2, 1, new int[]{2}, new int[]{1});
        p.op('u').op('.');
        Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of("0", new byte[8]));
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("tensor \"w\""), e.getMessage());
    }

    /** A stride-0 view of one float claiming 2^28 elements: refused before a byte is copied (was 1 GiB of heap). */
    @Test
    void viewThatRepeatsItsStorageIsRefused(@TempDir Path tmp) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).op('}').op('(');
        p.unicode("w").tensor("FloatStorage", "0", 1, 0, new long[]{1 << 14, 1 << 14}, new long[]{0, 0});
        p.op('u').op('.');
        Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of("0", new byte[4]));
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().startsWith(file + ": tensor \"w\"") && e.getMessage().contains("repeats"), e.getMessage());
    }

    @Test
    void sizesOrStridesThatOverflowAreRefusedNamingTheTensor(@TempDir Path tmp) throws IOException {
        for (long[][] sizeStride : new long[][][]{{{1L << 62, 4}, {1, 1}}, {{2, 2}, {Long.MAX_VALUE / 2 + 1, 1}}}) {
            Pickle p = new Pickle();
            p.op(0x80).op(2).op('}').op('(');
            p.unicode("big").tensor("FloatStorage", "0", 4, 0, sizeStride[0], sizeStride[1]);
            p.op('u').op('.');
            Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of("0", new byte[16]));
            var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
            assertTrue(e.getMessage().startsWith(file + ": tensor \"big\""), e.getMessage());
        }
    }

    /** Two entries of one name: PyTorch's reader takes the first, java.util.zip the last; refuse instead of choosing. */
    @Test
    void duplicateZipEntriesAreRefused(@TempDir Path tmp) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).op('}').op('(');
        p.unicode("w").tensor("FloatStorage", "0", 1, 0, new long[]{1}, new long[]{1});
        p.op('u').op('.');
        Path file = zip(tmp.resolve("pytorch_model.bin"), p.bytes(), Map.of("0", new byte[4], "1", new byte[]{0, 0, (byte) 0x80, 0x3f}));
        byte[] b = Files.readAllBytes(file);
        byte[] from = "archive/data/1".getBytes(StandardCharsets.US_ASCII);
        byte[] to = "archive/data/0".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + from.length <= b.length; i++) {      // local header and central directory alike
            if (java.util.Arrays.equals(b, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, b, i, to.length);
            }
        }
        Files.write(file, b);
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("two entries named archive/data/0"), e.getMessage());
    }

    @Test
    void aDamagedZipIsBadInputNamingTheFile(@TempDir Path tmp) throws IOException {
        Path file = Files.write(tmp.resolve("pytorch_model.bin"), new byte[]{'P', 'K', 3, 4, 1, 2, 3, 4, 5, 6, 7, 8});
        java.io.StringWriter err = new java.io.StringWriter();
        int code = dev.convbert.core.cli.ConvBertCli.commandLine(new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(err)).execute("inspect-checkpoint", file.toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().startsWith("error: " + file + ": starts like a zip"), err.toString());
    }

    @Test
    void truncatedLegacyPickleIsRefused(@TempDir Path tmp) throws IOException {
        byte[] b = Files.readAllBytes(TestData.path("interop/public-grouped/bin/pytorch_model.bin"));
        for (int cut : new int[]{100, 3000, b.length - 50}) {
            Path file = Files.write(tmp.resolve("cut" + cut + ".bin"), java.util.Arrays.copyOf(b, cut));
            var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
            assertTrue(e.getMessage().contains("truncated"), cut + ": " + e.getMessage());
        }
    }

    /** The command prints exactly the expected listing with --json, and exits 2 naming a damaged file. */
    @Test
    void inspectCommandPrintsTheListing(@TempDir Path tmp) throws IOException {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        Path t2t = TestData.path("interop/tf-real-t2t");
        int code = dev.convbert.core.cli.ConvBertCli.commandLine(new java.io.PrintWriter(out), new java.io.PrintWriter(err))
                .execute("inspect-checkpoint", t2t.resolve("model.ckpt-1.index").toString(), "--json");
        assertEquals(0, code, err.toString());
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.readTree(t2t.resolve("expected-inspect.json").toFile()), json.readTree(out.toString()));
        Path dir = copyBundle(tmp);
        Files.delete(dir.resolve("model.ckpt-1000.data-00000-of-00001"));
        code = dev.convbert.core.cli.ConvBertCli.commandLine(new java.io.PrintWriter(out), new java.io.PrintWriter(err))
                .execute("inspect-checkpoint", dir.toString());
        assertEquals(2, code);
        assertTrue(err.toString().contains("model.ckpt-1000.data-00000-of-00001: missing; tensor"), err.toString());
    }

    private static Path copyBundle(Path tmp) throws IOException {
        Path src = TestData.path("interop/public-tiny/tf");
        Path dir = Files.createDirectories(tmp.resolve("tf"));
        try (var s = Files.list(src)) {
            for (Path f : s.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static Path zip(Path file, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pickle);
            for (Map.Entry<String, byte[]> s : storages.entrySet()) {
                z.putNextEntry(new ZipEntry("archive/data/" + s.getKey()));
                z.write(s.getValue());
            }
        }
        return file;
    }

    /** Writes pickle protocol 2 opcodes, as torch.save does for a state dict. */
    private static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int b) {
            out.write(b);
            return this;
        }

        Pickle ascii(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle global(String module, String name) {
            return op('c').ascii(module + "\n" + name + "\n");
        }

        Pickle unicode(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
            return this;
        }

        Pickle integer(int v) {
            return op('K').op(v);
        }

        /** LONG1 with 8 bytes: any long. */
        Pickle longInt(long v) {
            op(0x8a).op(8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        Pickle tensor(String storageType, String key, int numel, int offset, int[] size, int[] stride) {
            return tensor(storageType, key, numel, offset, java.util.Arrays.stream(size).asLongStream().toArray(),
                    java.util.Arrays.stream(stride).asLongStream().toArray());
        }

        Pickle tensor(String storageType, String key, int numel, int offset, long[] size, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').unicode("storage").global("torch", storageType).unicode(key).unicode("cpu").integer(numel).op('t').op('Q');
            integer(offset);
            op('(');
            for (long s : size) {
                longInt(s);
            }
            op('t').op('(');
            for (long s : stride) {
                longInt(s);
            }
            op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R');
            return op('t').op('R');
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
