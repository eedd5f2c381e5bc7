package dev.convbert.core.checkpoint;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.config.ParameterShapes;
import dev.convbert.core.safetensors.DType;
import dev.convbert.core.safetensors.SafeTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint's tensors as a model directory's: HF {@code ConvBertModel} names (plus {@code classifier.*} with the
 * {@code convbert.} prefix when the checkpoint has a sequence-classification head), float32, and the config that
 * their shapes imply, checked against a config the user gives.
 *
 * <p>The original release's TF names map as HF's own converter ({@code load_tf_weights_in_convbert}) maps them: dense
 * kernels [in, out] are transposed, except the grouped feed-forward's {@code g_dense} kernels [G, in/G, out/G], which
 * HF keeps as they are; the depthwise kernel [k, C, 1] becomes [C, 1, k], the pointwise kernel [1, C, A] becomes
 * [A, C, 1], and the key convolution's bias [A] becomes [A, 1]. The generator, the discriminator's
 * replaced-token-detection head, Adam slots and step counters are skipped and counted.
 */
public final class CheckpointConverter {
    private static final String TF_ROOT = "electra/";
    private static final String TASK_PREFIX = "convbert.";
    private static final Pattern TF_LAYER = Pattern.compile("^electra/encoder/layer_(\\d+)/(.+)$");
    private static final Pattern HF_LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.");

    private static final java.util.Set<DType> FLOATS = java.util.EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.F64);

    private CheckpointConverter() {}

    /**
     * @param config     the converted model's config (its labels are the head's when there is one)
     * @param tensors    HF names, float32, in {@link ParameterShapes} order
     * @param skipped    reason → names skipped for it
     * @param hasHead    whether a sequence-classification head was converted
     */
    public record Result(ConvBertConfig config, List<SafeTensor> tensors, Map<String, List<String>> skipped, boolean hasHead) {}

    /**
     * Converts {@code checkpoint}. {@code given} (may be {@code null}) is checked against the shapes field by field;
     * without it the config is inferred, with HF's defaults for what shapes cannot show (gelu, eps 1e-12, dropout 0.1).
     */
    public static Result convert(Checkpoint checkpoint, ConvBertConfig given, String givenName) {
        Map<String, List<String>> skipped = new TreeMap<>();
        boolean tf = checkpoint.tensors().keySet().stream().anyMatch(n -> n.startsWith(TF_ROOT));
        Map<String, String> origin = new LinkedHashMap<>();
        Map<String, SafeTensor> hf = withPrefixForHead(tf ? fromTf(checkpoint, skipped, origin) : fromHf(checkpoint, skipped));
        boolean hasHead = hf.containsKey("classifier.out_proj.weight");
        String prefix = hasHead ? TASK_PREFIX : "";
        ConvBertConfig inferred = infer(checkpoint, hf, prefix, given);
        ConvBertConfig config = given == null ? inferred : check(checkpoint, given, givenName, inferred, hf, prefix, hasHead, origin);

        Map<String, long[]> expected = hasHead ? ParameterShapes.sequenceClassification(config) : encoderShapes(config);
        List<String> missing = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        List<String> notFloat = new ArrayList<>();
        List<SafeTensor> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            SafeTensor t = hf.remove(e.getKey());
            if (t == null) {
                missing.add(e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                misshaped.add(e.getKey() + ": checkpoint " + Arrays.toString(t.shape()) + ", config " + Arrays.toString(e.getValue()));
            } else if (!FLOATS.contains(t.dtype())) {
                // integer bytes read as weights would convert "successfully" into a model of nonsense
                notFloat.add(e.getKey() + " is " + t.dtype());
            } else {
                out.add(TensorLayouts.toFloat32(t));
            }
        }
        if (!notFloat.isEmpty()) {
            throw new CheckpointFormatException(checkpoint.source(), "parameters must be floating point (F32, F16, BF16 or"
                    + " F64), found: " + String.join(", ", notFloat) + "; the checkpoint's dtype records do not describe weights");
        }
        if (!missing.isEmpty() || !misshaped.isEmpty() || !hf.isEmpty()) {
            StringBuilder sb = new StringBuilder("does not hold a ConvBERT model of the config " + summary(config));
            if (!missing.isEmpty()) sb.append("\n  missing (").append(missing.size()).append("): ").append(String.join(", ", missing));
            if (!hf.isEmpty()) sb.append("\n  unexpected (").append(hf.size()).append("): ").append(String.join(", ", new TreeSet<>(hf.keySet())));
            if (!misshaped.isEmpty()) sb.append("\n  wrong shape (").append(misshaped.size()).append("): ").append(String.join("; ", misshaped));
            throw new CheckpointFormatException(checkpoint.source(), sb.toString());
        }
        return new Result(config, out, skipped, hasHead);
    }

    /** Encoder names carry {@code convbert.} exactly when a classification head sits beside them, as in HF. */
    private static Map<String, SafeTensor> withPrefixForHead(Map<String, SafeTensor> in) {
        boolean head = in.containsKey("classifier.out_proj.weight");
        Map<String, SafeTensor> out = new LinkedHashMap<>();
        for (SafeTensor t : in.values()) {
            String n = t.name();
            boolean prefixed = n.startsWith(TASK_PREFIX);
            if (head && !prefixed && !n.startsWith("classifier.")) {
                n = TASK_PREFIX + n;
            } else if (!head && prefixed) {
                n = n.substring(TASK_PREFIX.length());
            }
            out.put(n, n.equals(t.name()) ? t : TensorLayouts.reshape(t, n, t.shape()));
        }
        return out;
    }

    private static Map<String, long[]> encoderShapes(ConvBertConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        ParameterShapes.encoder(c, "", m);
        return m;
    }

    // ---- TF names ----

    /** @param origin filled with HF name → TF variable, so that errors name what the user's checkpoint calls it */
    private static Map<String, SafeTensor> fromTf(Checkpoint ck, Map<String, List<String>> skipped, Map<String, String> origin) {
        Map<String, SafeTensor> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (SafeTensor t : ck.tensors().values()) {
            String n = t.name();
            String reason = skipReason(n);
            if (reason != null) {
                skipped.computeIfAbsent(reason, k -> new ArrayList<>()).add(n);
                continue;
            }
            SafeTensor mapped = n.startsWith(TF_ROOT) ? mapTf(t) : null;
            if (mapped == null) {
                unknown.add(n + " " + Arrays.toString(t.shape()));
            } else {
                out.put(mapped.name(), mapped);
                origin.put(mapped.name(), n);
            }
        }
        if (!unknown.isEmpty()) {
            throw new CheckpointFormatException(ck.source(), "variables that are not part of a ConvBERT checkpoint ("
                    + unknown.size() + "): " + String.join(", ", unknown)
                    + "; expected electra/embeddings…, electra/encoder/layer_N/…, and generator/optimizer variables (skipped)");
        }
        return out;
    }

    /** Why a TF variable is not converted, or {@code null} when it belongs to the encoder. */
    private static String skipReason(String n) {
        if (n.endsWith("/adam_m") || n.endsWith("/adam_v") || n.endsWith("/Adam") || n.endsWith("/Adam_1")) {
            return "optimizer slots (Adam)";
        }
        if (n.startsWith("generator/") || n.startsWith("generator_predictions/")) {
            return "generator (pre-training only)";
        }
        if (n.startsWith("discriminator_predictions/")) {
            return "discriminator head (replaced-token detection, pre-training only)";
        }
        if (n.equals("global_step") || n.equals("beta1_power") || n.equals("beta2_power")) {
            return "training counters";
        }
        return null;
    }

    private static SafeTensor mapTf(SafeTensor t) {
        String n = t.name();
        String rest = n.substring(TF_ROOT.length());
        switch (rest) {
            case "embeddings/word_embeddings": return TensorLayouts.reshape(t, "embeddings.word_embeddings.weight", t.shape());
            case "embeddings/position_embeddings": return TensorLayouts.reshape(t, "embeddings.position_embeddings.weight", t.shape());
            case "embeddings/token_type_embeddings": return TensorLayouts.reshape(t, "embeddings.token_type_embeddings.weight", t.shape());
            case "embeddings/LayerNorm/gamma": return TensorLayouts.reshape(t, "embeddings.LayerNorm.weight", t.shape());
            case "embeddings/LayerNorm/beta": return TensorLayouts.reshape(t, "embeddings.LayerNorm.bias", t.shape());
            case "embeddings_project/kernel": return transposed(t, "embeddings_project.weight");
            case "embeddings_project/bias": return TensorLayouts.reshape(t, "embeddings_project.bias", t.shape());
            default: break;
        }
        Matcher m = TF_LAYER.matcher(n);
        if (!m.matches()) {
            return null;
        }
        String p = "encoder.layer." + m.group(1) + ".";
        String v = m.group(2);
        return switch (v) {
            case "attention/self/query/kernel", "attention/self/key/kernel", "attention/self/value/kernel" ->
                    transposed(t, p + "attention.self." + v.split("/")[2] + ".weight");
            case "attention/self/query/bias", "attention/self/key/bias", "attention/self/value/bias" ->
                    TensorLayouts.reshape(t, p + "attention.self." + v.split("/")[2] + ".bias", t.shape());
            case "attention/self/conv_attn_key/depthwise_kernel" -> rank(t, 3) == null ? null
                    : TensorLayouts.permute(t, p + "attention.self.key_conv_attn_layer.depthwise.weight", 1, 2, 0);
            case "attention/self/conv_attn_key/pointwise_kernel" -> rank(t, 3) == null ? null
                    : TensorLayouts.permute(t, p + "attention.self.key_conv_attn_layer.pointwise.weight", 2, 1, 0);
            case "attention/self/conv_attn_key/bias" -> rank(t, 1) == null ? null
                    : TensorLayouts.reshape(t, p + "attention.self.key_conv_attn_layer.bias", t.shape()[0], 1);
            case "attention/self/conv_attn_kernel/kernel" -> transposed(t, p + "attention.self.conv_kernel_layer.weight");
            case "attention/self/conv_attn_kernel/bias" -> TensorLayouts.reshape(t, p + "attention.self.conv_kernel_layer.bias", t.shape());
            case "attention/self/conv_attn_point/kernel" -> transposed(t, p + "attention.self.conv_out_layer.weight");
            case "attention/self/conv_attn_point/bias" -> TensorLayouts.reshape(t, p + "attention.self.conv_out_layer.bias", t.shape());
            case "attention/output/dense/kernel" -> transposed(t, p + "attention.output.dense.weight");
            case "attention/output/dense/bias" -> TensorLayouts.reshape(t, p + "attention.output.dense.bias", t.shape());
            case "attention/output/LayerNorm/gamma" -> TensorLayouts.reshape(t, p + "attention.output.LayerNorm.weight", t.shape());
            case "attention/output/LayerNorm/beta" -> TensorLayouts.reshape(t, p + "attention.output.LayerNorm.bias", t.shape());
            case "intermediate/dense/kernel" -> transposed(t, p + "intermediate.dense.weight");
            case "intermediate/g_dense/kernel" -> TensorLayouts.reshape(t, p + "intermediate.dense.weight", t.shape());
            case "intermediate/dense/bias", "intermediate/g_dense/bias" -> TensorLayouts.reshape(t, p + "intermediate.dense.bias", t.shape());
            case "output/dense/kernel" -> transposed(t, p + "output.dense.weight");
            case "output/g_dense/kernel" -> TensorLayouts.reshape(t, p + "output.dense.weight", t.shape());
            case "output/dense/bias", "output/g_dense/bias" -> TensorLayouts.reshape(t, p + "output.dense.bias", t.shape());
            case "output/LayerNorm/gamma" -> TensorLayouts.reshape(t, p + "output.LayerNorm.weight", t.shape());
            case "output/LayerNorm/beta" -> TensorLayouts.reshape(t, p + "output.LayerNorm.bias", t.shape());
            default -> null;
        };
    }

    private static SafeTensor transposed(SafeTensor t, String name) {
        return rank(t, 2) == null ? null : TensorLayouts.permute(t, name, 1, 0);
    }

    private static SafeTensor rank(SafeTensor t, int rank) {
        return t.shape().length == rank ? t : null;
    }

    // ---- HF names (pytorch_model.bin, safetensors) ----

    private static Map<String, SafeTensor> fromHf(Checkpoint ck, Map<String, List<String>> skipped) {
        Map<String, SafeTensor> out = new LinkedHashMap<>();
        for (SafeTensor t : ck.tensors().values()) {
            String n = t.name();
            String bare = n.startsWith(TASK_PREFIX) ? n.substring(TASK_PREFIX.length()) : n;
            if (bare.equals("embeddings.position_ids")) {
                skipped.computeIfAbsent("position_ids buffer (recomputed)", k -> new ArrayList<>()).add(n);
            } else if (n.startsWith("generator") || n.startsWith("discriminator_predictions.")) {
                skipped.computeIfAbsent("pre-training heads", k -> new ArrayList<>()).add(n);
            } else {
                out.put(n, t);
            }
        }
        if (out.keySet().stream().noneMatch(k -> k.endsWith("embeddings.word_embeddings.weight"))) {
            throw new CheckpointFormatException(ck.source(), "holds no embeddings.word_embeddings.weight (or convbert.…); "
                    + "not a ConvBERT state dict (first names: "
                    + String.join(", ", ck.tensors().keySet().stream().limit(5).toList()) + ")");
        }
        return out;
    }

    // ---- config ----

    /** The config the shapes imply; fields shapes cannot show come from {@code given}, else HF's defaults. */
    private static ConvBertConfig infer(Checkpoint ck, Map<String, SafeTensor> t, String p, ConvBertConfig given) {
        long[] word = shape(ck, t, p + "embeddings.word_embeddings.weight", 2);
        long[] pos = shape(ck, t, p + "embeddings.position_embeddings.weight", 2);
        long[] types = shape(ck, t, p + "embeddings.token_type_embeddings.weight", 2);
        int embedding = (int) word[1];
        int hidden = t.containsKey(p + "embeddings_project.weight")
                ? (int) shape(ck, t, p + "embeddings_project.weight", 2)[0] : embedding;
        int layers = 0;
        for (String name : t.keySet()) {
            Matcher m = HF_LAYER.matcher(name);
            if (name.startsWith(p) && m.region(p.length(), name.length()).lookingAt()) {
                layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        if (layers == 0) {
            throw new CheckpointFormatException(ck.source(), "holds no encoder layers (" + p + "encoder.layer.N.…)");
        }
        String l0 = p + "encoder.layer.0.";
        int allHead = (int) shape(ck, t, l0 + "attention.self.query.weight", 2)[0];
        int kernel = (int) shape(ck, t, l0 + "attention.self.key_conv_attn_layer.depthwise.weight", 3)[2];
        int kernels = (int) shape(ck, t, l0 + "attention.self.conv_kernel_layer.weight", 2)[0];
        if (kernel == 0 || kernels % kernel != 0 || allHead % (kernels / kernel) != 0) {
            throw new CheckpointFormatException(ck.source(), l0 + "attention.self.conv_kernel_layer.weight has " + kernels
                    + " rows, not a multiple of conv_kernel_size " + kernel + " that divides all_head_size " + allHead);
        }
        int heads = kernels / kernel;                  // H' = H / head_ratio
        int headSize = allHead / heads;
        if (hidden % headSize != 0 || (hidden / headSize) % heads != 0) {
            throw new CheckpointFormatException(ck.source(), "head size " + headSize + " (all_head_size " + allHead + " / "
                    + heads + " heads) does not divide hidden_size " + hidden + " into a whole head_ratio");
        }
        int numAttentionHeads = hidden / headSize;
        int headRatio = numAttentionHeads / heads;
        long[] inter = shape(ck, t, l0 + "intermediate.dense.weight", -1);
        int groups = inter.length == 3 ? (int) inter[0] : 1;
        int intermediate = inter.length == 3 ? (int) (inter[0] * inter[2]) : (int) inter[0];
        List<String> labels = given != null ? given.id2label() : List.of("LABEL_0", "LABEL_1");
        if (t.containsKey("classifier.out_proj.weight")) {
            int n = (int) shape(ck, t, "classifier.out_proj.weight", 2)[0];
            if (labels.size() != n) {
                labels = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    labels.add("LABEL_" + i);
                }
            }
        }
        ConvBertConfig d = given != null ? given : ConvBertConfig.base();
        // the geometry is the checkpoint's; the rest is the given config's, or HF's base defaults
        return d.toBuilder().vocabSize((int) word[0]).hiddenSize(hidden).numHiddenLayers(layers)
                .numAttentionHeads(numAttentionHeads).intermediateSize(intermediate).maxPositionEmbeddings((int) pos[0])
                .typeVocabSize((int) types[0]).embeddingSize(embedding).headRatio(headRatio).convKernelSize(kernel)
                .numGroups(groups).id2label(labels).paddingInvariant(given != null && given.paddingInvariant())
                .extra(given != null ? given.extra() : null).build();
    }

    /** The first field where {@code given} and the shapes disagree is refused, naming the variable that shows it. */
    private static ConvBertConfig check(Checkpoint ck, ConvBertConfig given, String givenName, ConvBertConfig inferred,
                                        Map<String, SafeTensor> t, String p, boolean hasHead, Map<String, String> origin) {
        String l0 = p + "encoder.layer.0.";
        Object[][] fields = {
                {"vocab_size", given.vocabSize(), inferred.vocabSize(), p + "embeddings.word_embeddings.weight"},
                {"embedding_size", given.embeddingSize(), inferred.embeddingSize(), p + "embeddings.word_embeddings.weight"},
                {"hidden_size", given.hiddenSize(), inferred.hiddenSize(), p + "embeddings_project.weight"},
                {"num_hidden_layers", given.numHiddenLayers(), inferred.numHiddenLayers(), p + "encoder.layer.N"},
                {"max_position_embeddings", given.maxPositionEmbeddings(), inferred.maxPositionEmbeddings(), p + "embeddings.position_embeddings.weight"},
                {"type_vocab_size", given.typeVocabSize(), inferred.typeVocabSize(), p + "embeddings.token_type_embeddings.weight"},
                {"num_attention_heads", given.numAttentionHeads(), inferred.numAttentionHeads(), l0 + "attention.self.query.weight"},
                {"head_ratio", given.headRatio(), inferred.headRatio(), l0 + "attention.self.conv_kernel_layer.weight"},
                {"conv_kernel_size", given.convKernelSize(), inferred.convKernelSize(), l0 + "attention.self.key_conv_attn_layer.depthwise.weight"},
                {"intermediate_size", given.intermediateSize(), inferred.intermediateSize(), l0 + "intermediate.dense.weight"},
                {"num_groups", given.numGroups(), inferred.numGroups(), l0 + "intermediate.dense.weight"},
                {"num_labels", given.numLabels(), inferred.numLabels(), "classifier.out_proj.weight"},
        };
        for (Object[] f : fields) {
            if (f[0].equals("num_labels") && !hasHead) {
                continue;
            }
            if (!f[1].equals(f[2])) {
                SafeTensor shown = origin.containsKey(f[3]) ? ck.tensors().get(origin.get(f[3])) : t.get(f[3]);
                throw new CheckpointFormatException(ck.source(), f[0] + " is " + f[1] + " in " + givenName + " but the checkpoint has "
                        + f[2] + " (" + origin.getOrDefault(f[3], (String) f[3]) + (shown != null ? " " + Arrays.toString(shown.shape()) : "") + "); pass the "
                        + "config the checkpoint was trained with, or none to infer it from the shapes");
            }
        }
        return given;
    }

    /** The geometry in one line, for messages and summaries. */
    public static String summary(ConvBertConfig c) {
        return String.format(java.util.Locale.ROOT, "hidden %d, %d layers, %d heads (head_ratio %d), intermediate %d, groups %d, "
                        + "kernel %d, embedding %d, vocab %d, positions %d", c.hiddenSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.headRatio(), c.intermediateSize(), c.numGroups(), c.convKernelSize(),
                c.embeddingSize(), c.vocabSize(), c.maxPositionEmbeddings());
    }

    private static long[] shape(Checkpoint ck, Map<String, SafeTensor> t, String name, int rank) {
        SafeTensor s = t.get(name);
        if (s == null) {
            throw new CheckpointFormatException(ck.source(), "has no " + name + " (after mapping to HF names); cannot infer the config");
        }
        if (rank >= 0 && s.shape().length != rank) {
            throw new CheckpointFormatException(ck.source(), name + " has shape " + Arrays.toString(s.shape())
                    + "; expected rank " + rank);
        }
        return s.shape();
    }
}
