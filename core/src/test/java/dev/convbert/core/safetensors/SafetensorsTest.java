package dev.convbert.core.safetensors;

import dev.convbert.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class SafetensorsTest {

    @Test
    void roundTripAllDtypes(@TempDir Path dir) throws IOException {
        float[] v = {0f, 1f, -2.5f, 65504f, 1e-3f, 3.14159f};
        List<SafeTensor> ts = List.of(
                SafeTensor.ofFloats("a.weight", new long[]{2, 3}, v),
                SafeTensor.ofFloats("b.half", DType.F16, new long[]{6}, v),
                SafeTensor.ofFloats("c.bf16", DType.BF16, new long[]{3, 2}, v),
                SafeTensor.ofLongs("d.ids", new long[]{4}, new long[]{0, -1, Long.MAX_VALUE, 42}),
                SafeTensor.ofFloats("e.scalar", new long[]{}, new float[]{7f}),
                SafeTensor.ofFloats("f.empty", new long[]{0, 5}, new float[0]));
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, ts, Map.of("format", "pt"));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(List.of("a.weight", "b.half", "c.bf16", "d.ids", "e.scalar", "f.empty"), List.copyOf(c.tensors().keySet()));
        assertEquals("pt", c.metadata().get("format"));
        assertArrayEquals(v, c.get("a.weight").toFloats());
        assertArrayEquals(new long[]{2, 3}, c.get("a.weight").shape());
        float[] half = c.get("b.half").toFloats();
        float[] bf = c.get("c.bf16").toFloats();
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], half[i], Math.abs(v[i]) * 1e-3 + 1e-7, "f16 " + v[i]);
            assertEquals(v[i], bf[i], Math.abs(v[i]) * 8e-3 + 1e-7, "bf16 " + v[i]);
        }
        assertArrayEquals(new long[]{0, -1, Long.MAX_VALUE, 42}, c.get("d.ids").toLongs());
        assertArrayEquals(new float[]{7f}, c.get("e.scalar").toFloats());
        assertEquals(0, c.get("f.empty").numel());
        assertEquals(0, Files.size(f) % 8 == 0 ? 0 : 0);
        assertTrue(Files.list(dir).noneMatch(p -> p.getFileName().toString().contains(".tmp-")));
    }

    @Test
    void halfPrecisionEdgeCases() {
        assertEquals(65504f, HalfFloats.halfToFloat(HalfFloats.floatToHalf(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.halfToFloat(HalfFloats.floatToHalf(70000f)));
        assertEquals(0x1p-24f, HalfFloats.halfToFloat(HalfFloats.floatToHalf(0x1p-24f)));   // smallest subnormal
        assertEquals(0x3c00, HalfFloats.floatToHalf(1f) & 0xffff);
        assertEquals(0xc000, HalfFloats.floatToHalf(-2f) & 0xffff);
        assertEquals(0x3555, HalfFloats.floatToHalf(1f / 3) & 0xffff);                       // IEEE nearest
        assertTrue(Float.isNaN(HalfFloats.halfToFloat(HalfFloats.floatToHalf(Float.NaN))));
        assertEquals(1f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f)));
    }

    @Test
    void readsTheReferenceCheckpoint() throws IOException {
        Safetensors.Contents c = Safetensors.read(TestData.path("reference/public-tiny/model.safetensors"));
        SafeTensor w = c.get("convbert.embeddings.word_embeddings.weight");
        assertArrayEquals(new long[]{100, 32}, w.shape());
        assertEquals(DType.F32, w.dtype());
        assertArrayEquals(new long[]{64, 1, 9},
                c.get("convbert.encoder.layer.0.attention.self.key_conv_attn_layer.depthwise.weight").shape());
        Safetensors.Contents g = Safetensors.read(TestData.path("reference/public-grouped/model.safetensors"));
        assertArrayEquals(new long[]{2, 24, 48}, g.get("convbert.encoder.layer.1.intermediate.dense.weight").shape());
    }

    // ---- a corpus of broken files: each rejected with a message naming the rule ----

    private static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown dtype       | {"a":{"dtype":"Q8","shape":[2],"data_offsets":[0,8]}}                     | 8  | unsupported dtype
            negative dim        | {"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}                   | 8  | not a non-negative integer
            first offset not 0  | {"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}                   | 12 | gap in the data section
            gap                 | {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}} | 12 | gap
            overlap             | {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}  | 8  | overlap
            end before begin    | {"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}                    | 8  | 0 <= begin <= end
            shape vs span       | {"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}                    | 8  | declares shape [3] F32 (12 bytes) but data_offsets span 8 bytes
            shape overflow      | {"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}} | 8 | overflows
            past end            | {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}                   | 8  | truncated
            trailing bytes      | {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}                    | 8  | trailing bytes
            duplicate name      | {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  | 4  | not valid JSON
            bad json            | {"a":{"dtype":"F32",                                                       | 4  | not valid JSON
            not an object       | [1,2,3]                                                                    | 0  | must start with '{'
            metadata not string | {"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} | 4 | __metadata__ value "k" must be a string
            offsets not ints    | {"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}                | 4  | data_offsets must be [begin, end]
            """)
    void brokenHeadersAreRejected(String name, String header, int data, String expected, @TempDir Path dir) throws IOException {
        Path f = dir.resolve("model.safetensors");
        Files.write(f, file(header.trim(), data));
        var ex = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(f));
        assertTrue(ex.getMessage().startsWith("model.safetensors: "), ex.getMessage());
        assertTrue(ex.getMessage().contains(expected), name + ": " + ex.getMessage());
    }

    @Test
    void tooShortHugeHeaderAndNonUtf8(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.safetensors");
        Files.write(f, new byte[]{1, 2, 3});
        assertMessage(f, "shorter than the 8-byte header length");
        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
        Files.write(f, huge.array());
        assertMessage(f, "header length 1099511627776 does not fit the file");
        ByteBuffer bad = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(4).put(new byte[]{'{', (byte) 0xff, (byte) 0xfe, '}'});
        Files.write(f, bad.array());
        assertMessage(f, "not valid UTF-8");
    }

    @Test
    void truncatedReferenceFileIsRejectedClearly(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(TestData.path("reference/public-tiny/model.safetensors"));
        Path f = dir.resolve("model.safetensors");
        Files.write(f, Arrays.copyOf(good, good.length - 100));
        assertMessage(f, "truncated");
    }

    @Test
    void randomMutationsOnlyEverGiveTheFormatException(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("src.safetensors");
        Safetensors.write(src, List.of(SafeTensor.ofFloats("w", new long[]{3, 4}, new float[12]),
                SafeTensor.ofLongs("i", new long[]{2}, new long[]{1, 2})), Map.of());
        byte[] good = Files.readAllBytes(src);
        Random rnd = new Random(7);
        Path f = dir.resolve("m.safetensors");
        int rejected = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] m = good.clone();
            switch (rnd.nextInt(3)) {
                case 0 -> m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> m = Arrays.copyOf(m, rnd.nextInt(m.length));
                default -> m[rnd.nextInt(Math.min(m.length, 120))] = (byte) rnd.nextInt(256);
            }
            Files.write(f, m);
            try {
                Safetensors.read(f);
            } catch (SafetensorsFormatException e) {
                rejected++;
            } catch (RuntimeException | IOException e) {
                fail("mutation " + i + " escaped as " + e, e);
            }
        }
        assertTrue(rejected > 1000, "most mutations are caught: " + rejected);
    }

    private static void assertMessage(Path f, String expected) {
        var ex = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(f));
        assertTrue(ex.getMessage().contains(expected), ex.getMessage());
    }
}
