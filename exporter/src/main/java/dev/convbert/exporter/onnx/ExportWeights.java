package dev.convbert.exporter.onnx;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.config.ParameterShapes;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.safetensors.SafeTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model directory's weights as the graph reads them: under HF's task-model names, checked against the config's
 * shapes before anything is built, and written into a graph as initializers — as stored, transposed to [in, out] (so
 * every dense is a plain MatMul + Add), or several linears side by side.
 */
final class ExportWeights {
    private static final String TASK_PREFIX = "convbert.";
    private static final Set<String> FLOAT_DTYPES = Set.of("F32", "F16", "BF16", "F64");

    private final Map<String, SafeTensor> tensors;
    /** An encoder without a classification head: only last_hidden_state can be exported. */
    private final boolean encoderOnly;
    private final int type;

    ExportWeights(ModelDir dir, int type) {
        this.type = type;
        Map<String, SafeTensor> contents = dir.weights().tensors();
        this.encoderOnly = !contents.containsKey("classifier.out_proj.weight");
        // the graph reads encoder weights under HF's task-model names; an encoder's carry no "convbert." prefix
        Map<String, SafeTensor> named = new LinkedHashMap<>();
        contents.forEach((k, v) -> named.put(encoderOnly && !k.startsWith(TASK_PREFIX) ? TASK_PREFIX + k : k, v));
        this.tensors = named;
        validate(dir, dir.config());
    }

    boolean encoderOnly() {
        return encoderOnly;
    }

    long[] shape(String name) {
        return tensors.get(name).shape();
    }

    float[] floats(String name) {
        return tensors.get(name).toFloats();
    }

    /** A weight as stored (optionally reshaped, same data). */
    String stored(GraphBuilder g, String name, long... reshape) {
        SafeTensor t = tensors.get(name);
        return initializer(g, name, reshape.length > 0 ? reshape : t.shape(), t.toFloats());
    }

    /** A [out, in] linear weight stored transposed as [in, out] under {@code name.T}. */
    String transposed(GraphBuilder g, String name) {
        SafeTensor t = tensors.get(name);
        int out = (int) t.shape()[0], in = (int) t.shape()[1];
        float[] src = t.toFloats();
        float[] tr = new float[src.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                tr[i * out + o] = src[o * in + i];
            }
        }
        return initializer(g, name + ".T", new long[]{in, out}, tr);
    }

    /** Linears side by side: weights transposed and concatenated to [in, Σout], biases concatenated. */
    record Joined(String name, int in, int out, float[] weightT, float[] bias) {}

    Joined joined(String... names) {
        int in = (int) shape(names[0] + ".weight")[1];
        int total = 0;
        for (String n : names) {
            total += (int) shape(n + ".weight")[0];
        }
        float[] wt = new float[in * total];
        float[] bias = new float[total];
        int offset = 0;
        for (String n : names) {
            int out = (int) shape(n + ".weight")[0];
            float[] src = floats(n + ".weight");
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    wt[i * total + offset + o] = src[o * in + i];
                }
            }
            System.arraycopy(floats(n + ".bias"), 0, bias, offset, out);
            offset += out;
        }
        return new Joined(String.join("+", names), in, total, wt, bias);
    }

    /** Each weight is written once, however often the graph reads it. */
    String initializer(GraphBuilder g, String name, long[] dims, float[] values) {
        if (!g.initializers().containsKey(name)) {
            g.initializer(name, dims, values, type);
        }
        return name;
    }

    private void validate(ModelDir dir, ConvBertConfig c) {
        Map<String, long[]> expected = new LinkedHashMap<>();
        if (encoderOnly) {
            ParameterShapes.encoder(c, TASK_PREFIX, expected);
        } else {
            expected.putAll(ParameterShapes.sequenceClassification(c));
        }
        List<String> problems = new ArrayList<>();
        for (var e : expected.entrySet()) {
            SafeTensor t = tensors.get(e.getKey());
            if (t == null) {
                problems.add("missing " + e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                problems.add(e.getKey() + " has shape " + Arrays.toString(t.shape()) + ", config needs " + Arrays.toString(e.getValue()));
            } else if (!FLOAT_DTYPES.contains(t.dtype().name())) {
                problems.add(e.getKey() + " is " + t.dtype() + "; weights must be F32, F16, BF16 or F64");
            } else {
                for (float f : t.toFloats()) {
                    if (!Float.isFinite(f)) {
                        problems.add(e.getKey() + " holds NaN or infinite values");
                        break;
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ExportException(dir.weightsFile(), "cannot export: " + String.join("; ", problems)
                    + (problems.stream().anyMatch(p -> p.contains("classifier")) ? " (export needs a fine-tuned task model)" : ""));
        }
    }
}
