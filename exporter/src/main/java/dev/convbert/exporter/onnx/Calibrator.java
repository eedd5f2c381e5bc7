package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Measures the activation ranges static int8 quantises at: the float32 graph with every encoder product's input as
 * an extra output ({@link #calibrationModel}), run in ONNX Runtime over calibration rows, the smallest
 * and largest value of each input kept (min/max calibration, as ONNX Runtime's quantiser does by default).
 */
public final class Calibrator {
    /** Rows drawn from the train split when none are given: enough to see each product's range, a few seconds to run. */
    public static final int DEFAULT_ROWS = 256;
    private static final int ROWS_PER_PASS = 32;
    private static final String CALIBRATION_OUTPUT = "calibration/";

    private Calibrator() {}

    /**
     * {@code rows} rows of {@code task}'s train split, drawn with {@code seed}, encoded as the model's vocabulary and
     * trained max length encode them, in length-sorted passes.
     */
    public static List<PaddedBatch> glueSample(ModelDir dir, Path dataDir, GlueTask task, int rows, long seed) throws IOException {
        List<GlueExample> train = new ArrayList<>(GlueReader.read(dataDir, task, "train"));
        Collections.shuffle(train, new Random(seed));
        List<GlueExample> sample = train.subList(0, Math.min(rows, train.size()));
        int maxLength = dir.maxLength(ScoringModel.DEFAULT_MAX_LENGTH);
        List<Encoding> encoded = new ArrayList<>(BatchRunner.encode(new BertTokenizer(Vocab.read(dir.vocabFile())), sample,
                maxLength));
        encoded.sort(Comparator.comparingInt(Encoding::length));
        List<PaddedBatch> batches = new ArrayList<>();
        for (int i = 0; i < encoded.size(); i += ROWS_PER_PASS) {
            batches.add(PaddedBatch.of(encoded.subList(i, Math.min(encoded.size(), i + ROWS_PER_PASS))));
        }
        return batches;
    }

    /**
     * The ranges for an int8 export of {@code dir} laid out as {@code target} (its hidden-states and layout flags decide
     * which rows the last layer's products see), over {@code batches}; {@code source} names them in the metadata.
     */
    public static Int8Calibration calibrate(ModelDir dir, ExportOptions target, List<PaddedBatch> batches, String source)
            throws IOException {
        ExportOptions float32 = target.toBuilder().precision(ExportOptions.Precision.FLOAT32).calibration(null)
                .ortOperators(false).build();
        byte[] model = calibrationModel(new OnnxExporter(dir, float32)).toByteArray();
        Map<String, float[]> ranges = new TreeMap<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(model, so)) {
                List<String> outputs = session.getOutputNames().stream()
                        .filter(n -> n.startsWith(CALIBRATION_OUTPUT)).toList();
                for (PaddedBatch b : batches) {
                    try (OnnxTensor ids = OnnxTensor.createTensor(env, b.inputIds());
                         OnnxTensor mask = OnnxTensor.createTensor(env, b.attentionMask());
                         OnnxTensor types = OnnxTensor.createTensor(env, b.tokenTypeIds());
                         OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask,
                                 "token_type_ids", types), new java.util.LinkedHashSet<>(outputs))) {
                        for (Map.Entry<String, OnnxValue> e : r) {
                            FloatBuffer f = ((OnnxTensor) e.getValue()).getFloatBuffer();
                            float[] range = ranges.computeIfAbsent(e.getKey().substring(CALIBRATION_OUTPUT.length()),
                                    k -> new float[]{Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
                            while (f.hasRemaining()) {
                                float v = f.get();
                                range[0] = Math.min(range[0], v);
                                range[1] = Math.max(range[1], v);
                            }
                        }
                    }
                }
            }
        } catch (OrtException e) {
            throw new ExportException(dir.weightsFile(), "calibration run in ONNX Runtime failed: " + e.getMessage());
        }
        return new Int8Calibration(ranges, source);
    }

    /**
     * The float32 graph with one more output per encoder dense product, {@code calibration/NAME}: the product's input,
     * for this class to measure its range.
     */
    private static OnnxMl.ModelProto calibrationModel(OnnxExporter exporter) throws IOException {
        OnnxMl.ModelProto model = exporter.build();
        OnnxMl.GraphProto.Builder graph = model.getGraph().toBuilder();
        exporter.productInputs().forEach((name, tensor) -> {
            String out = CALIBRATION_OUTPUT + name;
            graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType(ConvBertOps.IDENTITY.opName()).addInput(tensor).addOutput(out));
            graph.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(out).setType(OnnxMl.TypeProto.newBuilder()
                    .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(GraphBuilder.FLOAT))));
        });
        return model.toBuilder().setGraph(graph).build();
    }
}
