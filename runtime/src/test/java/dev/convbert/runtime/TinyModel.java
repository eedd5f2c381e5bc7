package dev.convbert.runtime;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** The committed tiny SST-2 model (testdata/tiny-sst2, see its README) and variants of it made for tests. */
public final class TinyModel {
    public static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    public static final Path DIR = TESTDATA.resolve("tiny-sst2");
    public static final Path ONNX = DIR.resolve("model.onnx");
    public static final Path GLUE = DIR.resolve("glue");
    public static final Path VOCAB = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");

    private TinyModel() {}

    /** A copy whose two output classes are swapped (out_proj columns and bias): every prediction flips. */
    public static Path permutedLabels(Path dir) throws IOException {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(ONNX));
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            if (t.getName().startsWith("classifier.out_proj.")) {
                ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                float[] v = new float[b.remaining() / 4];
                b.asFloatBuffer().get(v);
                for (int r = 0; r < v.length; r += 2) {      // [.., 2] rows: swap the two classes
                    float tmp = v[r];
                    v[r] = v[r + 1];
                    v[r + 1] = tmp;
                }
                ByteBuffer out = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    out.putFloat(f);
                }
                g.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(out.array())));
            }
        }
        Path p = dir.resolve("permuted.onnx");
        Files.write(p, m.toBuilder().setGraph(g).build().toByteArray());
        return p;
    }
}
