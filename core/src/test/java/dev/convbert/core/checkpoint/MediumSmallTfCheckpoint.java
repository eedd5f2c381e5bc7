package dev.convbert.core.checkpoint;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.config.ParameterShapes;
import dev.convbert.core.safetensors.SafeTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a random medium-small ConvBERT checkpoint in the original release's TF layout (with Adam slots, generator
 * variables and global_step, as the release's checkpoints have), to time {@code convbert convert} on a realistic size:
 * {@code java -cp core/target/test-classes:core/target/classes:$(cat benchmarks/target/classpath.txt)
 * dev.convbert.core.checkpoint.MediumSmallTfCheckpoint DIR} (docs/RESULTS.md).
 */
public final class MediumSmallTfCheckpoint {
    private MediumSmallTfCheckpoint() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        ConvBertConfig c = ConvBertConfig.mediumSmall();
        Map<String, long[]> hf = new LinkedHashMap<>();
        ParameterShapes.encoder(c, "", hf);
        SplittableRandom rnd = new SplittableRandom(1);
        Map<String, SafeTensor> tf = new LinkedHashMap<>();
        long params = 0;
        for (Map.Entry<String, long[]> e : hf.entrySet()) {
            String name = tfName(e.getKey(), c.numGroups() > 1);
            long[] shape = tfShape(e.getKey(), e.getValue());
            for (String suffix : new String[]{"", "/adam_m", "/adam_v"}) {
                float[] v = new float[Math.toIntExact(SafeTensor.numel(shape))];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextGaussian() * 0.02);
                }
                tf.put(name + suffix, SafeTensor.ofFloats(name + suffix, shape, v));
            }
            params += SafeTensor.numel(shape);
        }
        tf.put("generator/embeddings_project/kernel", SafeTensor.ofFloats("generator/embeddings_project/kernel",
                new long[]{128, 96}, new float[128 * 96]));
        tf.put("global_step", SafeTensor.ofLongs("global_step", new long[0], new long[]{1_000_000}));
        TfBundleWriter.write(dir.resolve("model.ckpt-1000000"), tf);
        Files.writeString(dir.resolve("checkpoint"), "model_checkpoint_path: \"model.ckpt-1000000\"\n");
        System.out.printf("wrote %s: %d encoder parameters, %d tensors with Adam slots%n", dir, params, tf.size());
    }

    private static String tfName(String hf, boolean grouped) {
        String n = hf.replace("embeddings.LayerNorm.weight", "embeddings/LayerNorm/gamma")
                .replace("embeddings.LayerNorm.bias", "embeddings/LayerNorm/beta")
                .replace("LayerNorm.weight", "LayerNorm/gamma").replace("LayerNorm.bias", "LayerNorm/beta")
                .replace("key_conv_attn_layer.depthwise.weight", "conv_attn_key/depthwise_kernel")
                .replace("key_conv_attn_layer.pointwise.weight", "conv_attn_key/pointwise_kernel")
                .replace("key_conv_attn_layer.bias", "conv_attn_key/bias")
                .replace("conv_kernel_layer", "conv_attn_kernel").replace("conv_out_layer", "conv_attn_point")
                .replace("_embeddings.weight", "_embeddings")
                .replace("encoder.layer.", "encoder/layer_").replace(".weight", "/kernel").replace(".bias", "/bias")
                .replace('.', '/');
        if (grouped) {
            n = n.replace("intermediate/dense", "intermediate/g_dense").replaceAll("(layer_\\d+)/output/dense", "$1/output/g_dense");
        }
        return "electra/" + n;
    }

    private static long[] tfShape(String hf, long[] s) {
        if (hf.endsWith("depthwise.weight")) {
            return new long[]{s[2], s[0], 1};
        }
        if (hf.endsWith("pointwise.weight")) {
            return new long[]{1, s[1], s[0]};
        }
        if (hf.endsWith("key_conv_attn_layer.bias")) {
            return new long[]{s[0]};
        }
        if (s.length == 2 && !hf.contains("_embeddings")) {
            return new long[]{s[1], s[0]};
        }
        return s;
    }
}
