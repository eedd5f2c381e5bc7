package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDirException;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Maps the block tree to HuggingFace parameter names and moves weights between it and safetensors: loading (with one
 * error listing every missing, unexpected or misshaped tensor), HF-style initialisation, and saving.
 */
public final class ConvBertWeights {
    private static final String TASK_PREFIX = "convbert.";

    private ConvBertWeights() {}

    /** A parameter under its HF name. */
    public record Named(String name, Parameter parameter, Shape shape, HfBlock.Init init) {}

    /** Every parameter of {@code root} under its HF name, in tree order. */
    public static Map<String, Named> named(Block root) {
        Map<String, Named> out = new LinkedHashMap<>();
        walk(root, "", out);
        return out;
    }

    /**
     * As {@link #named}, but a parameter reached under several names (a block shared between encoders, such as ELECTRA's
     * tied embeddings) appears once, under its first name.
     */
    public static Map<String, Named> unique(Block root) {
        Map<String, Named> out = new LinkedHashMap<>();
        java.util.Set<Parameter> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Named n : named(root).values()) {
            if (seen.add(n.parameter())) {
                out.put(n.name(), n);
            }
        }
        return out;
    }

    private static void walk(Block block, String prefix, Map<String, Named> out) {
        if (block instanceof HfBlock hf) {
            for (HfBlock.Spec s : hf.specs()) {
                String name = prefix + s.parameter().getName();
                out.put(name, new Named(name, s.parameter(), s.shape(), s.init()));
            }
        }
        int i = 0;
        for (Pair<String, Block> child : block.getChildren()) {
            i++;
            // DJL prefixes each child name with its 1-based position ("%02d")
            String name = child.getKey().substring(String.format(Locale.ROOT, "%02d", i).length());
            walk(child.getValue(), prefix + name + ".", out);
        }
    }

    /** HF initialisation: normal(0, initializer_range) for weights and embeddings, zero biases, LayerNorm 1/0. */
    public static void initialize(Block root, ConvBertConfig config, NDManager manager, long seed) {
        for (Named n : unique(root).values()) {
            set(n, initialValues(n, config, seed), manager);
        }
    }

    /** What {@link #load} did beyond a one-to-one copy. */
    public record LoadReport(List<String> initialised, List<String> ignored) {}

    /**
     * Loads {@code file} into {@code root}. Hub encoder checkpoints (no {@code convbert.} prefix) load into task models;
     * a stored {@code position_ids} buffer is ignored. With {@code initMissingHeads}, task-head tensors absent from the
     * file are initialised and tensors of other heads (generator, discriminator) are dropped — fine-tuning from a
     * pre-trained encoder, or re-labelling a fine-tuned one (a head of the wrong shape is also initialised afresh);
     * without it any difference is an error.
     */
    public static LoadReport load(Block root, ConvBertConfig config, Safetensors.Contents file, Path source,
                                  NDManager manager, boolean initMissingHeads, long seed) {
        Map<String, Named> params = named(root);
        boolean rootIsTask = params.keySet().stream().anyMatch(k -> k.startsWith(TASK_PREFIX));
        boolean fileIsTask = file.tensors().keySet().stream().anyMatch(k -> k.startsWith(TASK_PREFIX));
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        List<String> ignored = new ArrayList<>();
        for (Map.Entry<String, SafeTensor> e : file.tensors().entrySet()) {
            String name = e.getKey();
            if (name.endsWith("embeddings.position_ids")) {
                ignored.add(name);
                continue;
            }
            if (rootIsTask && !fileIsTask) {
                name = TASK_PREFIX + name;
            } else if (!rootIsTask && fileIsTask) {
                if (!name.startsWith(TASK_PREFIX)) {
                    ignored.add(name);   // a task head, not part of the encoder being loaded
                    continue;
                }
                name = name.substring(TASK_PREFIX.length());
            }
            tensors.put(name, e.getValue());
        }
        List<String> missing = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        List<String> initialised = new ArrayList<>();
        for (Named n : params.values()) {
            SafeTensor t = tensors.get(n.name());
            if (t != null && !isFloat(t)) {
                throw new ModelDirException(source, "tensor \"" + t.name() + "\" is " + t.dtype()
                        + "; weights must be F32, F16, BF16 or F64 (the file was changed, or is not a ConvBERT checkpoint)");
            }
            boolean shapeOk = t != null && Arrays.equals(t.shape(), n.shape().getShape());
            if (initMissingHeads && !isEncoder(n.name()) && !shapeOk) {
                // a head for another label set, or none at all: start it afresh
                initialised.add(n.name());
                if (t != null) {
                    tensors.remove(n.name());
                    ignored.add(n.name());
                }
            } else if (t == null) {
                missing.add(n.name() + " " + n.shape());
            } else if (!shapeOk) {
                misshaped.add(n.name() + ": file " + Arrays.toString(t.shape()) + ", model " + n.shape());
            }
        }
        TreeSet<String> unexpected = new TreeSet<>(tensors.keySet());
        unexpected.removeAll(params.keySet());
        if (initMissingHeads) {
            unexpected.removeIf(name -> {
                boolean head = !isEncoder(name);
                if (head) {
                    ignored.add(name);
                }
                return head;
            });
        }
        if (!missing.isEmpty() || !misshaped.isEmpty() || !unexpected.isEmpty()) {
            StringBuilder sb = new StringBuilder("weights do not match the config");
            if (!missing.isEmpty()) sb.append("\n  missing (").append(missing.size()).append("): ").append(String.join(", ", missing));
            if (!unexpected.isEmpty()) sb.append("\n  unexpected (").append(unexpected.size()).append("): ").append(String.join(", ", unexpected));
            if (!misshaped.isEmpty()) sb.append("\n  wrong shape (").append(misshaped.size()).append("): ").append(String.join("; ", misshaped));
            if (!initMissingHeads && missing.stream().allMatch(m -> !isEncoder(m))) {
                sb.append("\n  this is an encoder without a task head: fine-tune it with 'convbert finetune --model ")
                        .append(source.getParent() != null && source.getFileName().toString().endsWith(".safetensors") ? source.getParent() : source)
                        .append(" --task …' (the head is initialised there), or run it as an encoder with 'convbert predict'");
            }
            throw new ModelDirException(source, sb.toString());
        }
        for (Named n : params.values()) {
            SafeTensor t = tensors.get(n.name());
            float[] values = t == null ? initialValues(n, config, seed) : t.toFloats();
            if (t != null) {
                for (float v : values) {
                    if (!Float.isFinite(v)) {
                        throw new ModelDirException(source, "tensor \"" + t.name() + "\" holds NaN or infinite values");
                    }
                }
            }
            set(n, values, manager);
        }
        return new LoadReport(initialised, ignored);
    }

    /** The weights as safetensors under HF names. */
    public static List<SafeTensor> toSafeTensors(Block root) {
        List<SafeTensor> out = new ArrayList<>();
        for (Named n : unique(root).values()) {
            out.add(SafeTensor.ofFloats(n.name(), n.shape().getShape(), n.parameter().getArray().toFloatArray()));
        }
        return out;
    }

    private static boolean isFloat(SafeTensor t) {
        return switch (t.dtype()) {
            case F32, F16, BF16, F64 -> true;
            default -> false;
        };
    }

    private static boolean isEncoder(String name) {
        String n = name.startsWith(TASK_PREFIX) ? name.substring(TASK_PREFIX.length()) : name;
        return n.startsWith("embeddings.") || n.startsWith("embeddings_project.") || n.startsWith("encoder.");
    }

    private static void set(Named n, float[] values, NDManager manager) {
        NDArray array = manager.create(values, n.shape());
        Parameter p = n.parameter();
        if (p.isInitialized()) {
            p.getArray().set(new ai.djl.ndarray.index.NDIndex("..."), array);    // not set(float[]): see Checkpoints.restore
            array.close();
        } else {
            p.setArray(array);
        }
    }

    private static float[] initialValues(Named n, ConvBertConfig config, long seed) {
        int size = Math.toIntExact(n.shape().size());
        float[] v = new float[size];
        switch (n.init()) {
            case ONES -> Arrays.fill(v, 1f);
            case ZEROS -> { }
            case NORMAL -> {
                Random r = new Random(seed * 1_000_003L + n.name().hashCode());
                float std = (float) config.initializerRange();
                for (int i = 0; i < size; i++) {
                    v[i] = (float) r.nextGaussian() * std;
                }
                if (n.name().endsWith("word_embeddings.weight")) {
                    // HF's padding_idx: the pad token's row starts at zero
                    int dim = (int) n.shape().get(1);
                    Arrays.fill(v, config.padTokenId() * dim, (config.padTokenId() + 1) * dim, 0f);
                }
            }
        }
        return v;
    }
}
