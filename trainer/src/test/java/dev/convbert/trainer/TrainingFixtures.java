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
