package dev.convbert.trainer;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the fine-tuning resume tests share: the tiny model they train and the bit-for-bit comparison of two files. */
public final class TrainingFixtures {
    private TrainingFixtures() {}

    public static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    public static final Path GLUE = TESTDATA.resolve("glue");
    public static final Path VOCAB = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");

    /**
     * {@code finetune} of RTE on the committed fixtures from {@code config} at lr 1e-3 (small and fast, big enough to
     * move the weights), into {@code out}, then {@code more}.
     */
    public static List<String> finetuneArgs(Path config, Path out, int steps, int batch, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("finetune", "--task", "rte", "--data-dir", GLUE.toString(),
                "--config", config.toString(), "--vocab", VOCAB.toString(), "--output", out.toString(),
                "--max-steps", String.valueOf(steps), "--batch-size", String.valueOf(batch), "--lr", "1e-3"));
        a.addAll(List.of(more));
        return a;
    }

    /** {@link #tiny()} written as {@code dir/tiny.json}, for {@code --config}. */
    public static Path tinyConfig(Path dir) throws IOException {
        Path config = dir.resolve("tiny.json");
        tiny().write(config);
        return config;
    }

    /** Two layers of width 32 on BERT's vocabulary, dropout on (a resume must replay the masks too). */
    public static ConvBertConfig tiny() {
        return ConvBertConfig.tiny().withLabels(List.of("entailment", "not_entailment"));
    }

    /** Two safetensors files hold the same tensors, bit for bit. */
    public static void assertBitEqual(Path x, Path y) throws IOException {
        Map<String, SafeTensor> tx = Safetensors.read(x).tensors();
        Map<String, SafeTensor> ty = Safetensors.read(y).tensors();
        assertEquals(tx.keySet(), ty.keySet());
        for (String k : tx.keySet()) {
            float[] fx = tx.get(k).toFloats();
            float[] fy = ty.get(k).toFloats();
            assertEquals(fx.length, fy.length, k);
            for (int i = 0; i < fx.length; i++) {
                if (Float.floatToIntBits(fx[i]) != Float.floatToIntBits(fy[i])) {
                    assertArrayEquals(fx, fy, 0f, x.getFileName() + " " + k + " differs at " + i);
                }
            }
        }
    }
}
