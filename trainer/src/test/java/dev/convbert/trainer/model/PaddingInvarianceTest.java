package dev.convbert.trainer.model;

import ai.djl.Device;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.trainer.ReferenceSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Padding-invariant mode: a row's logits are the same alone and inside a batch padded to 4× its length. HF mode is
 * checked to drift (that is the behaviour the mode exists to remove).
 */
class PaddingInvarianceTest {

    @Test
    void rowAloneEqualsRowInsideAHeavilyPaddedBatch(@TempDir Path dir) throws IOException {
        for (String set : ReferenceSet.NAMES) {
            ReferenceSet ref = ReferenceSet.load(set);
            double invariant = maxDrift(modelDir(ref, dir.resolve(set + "-inv"), true), ref);
            double hf = maxDrift(modelDir(ref, dir.resolve(set + "-hf"), false), ref);
            assertTrue(invariant <= 1e-5, set + ": padding-invariant drift " + invariant);
            assertTrue(hf > 1e-3, set + ": HF semantics are expected to drift with padding, found " + hf);
            System.out.printf("%s: max |Δlogit| alone vs padded 4x: invariant %.2e, HF semantics %.2e%n", set, invariant, hf);
        }
    }

    private static Path modelDir(ReferenceSet ref, Path dir, boolean invariant) throws IOException {
        ModelDir src = ModelDir.open(ref.dir());
        ConvBertConfig c = src.config().withPaddingInvariant(invariant);
        Files.createDirectories(dir);
        Files.copy(src.weightsFile(), dir.resolve(ModelDir.WEIGHTS));
        c.write(dir.resolve(ModelDir.CONFIG));
        return dir;
    }

    /** Each reference row trimmed to its real tokens, run alone and then padded to 4× its length beside a full row. */
    private static double maxDrift(Path dir, ReferenceSet ref) {
        double max = 0;
        try (TaskModel m = TaskModel.load(dir, Device.cpu())) {
            int maxLen = m.config().maxPositionEmbeddings();
            for (int r = 0; r < ref.batch(); r++) {
                int real = (int) Arrays.stream(ref.attentionMask()[r]).sum();
                long[] ids = Arrays.copyOf(ref.inputIds()[r], real);
                long[] types = Arrays.copyOf(ref.tokenTypeIds()[r], real);
                long[] mask = new long[real];
                Arrays.fill(mask, 1);
                float[] alone = m.run(new long[][]{ids}, new long[][]{types}, new long[][]{mask}, false).logits()[0];

                int padded = Math.min(maxLen, 4 * real);
                long[][] bIds = new long[2][padded];
                long[][] bTypes = new long[2][padded];
                long[][] bMask = new long[2][padded];
                System.arraycopy(ids, 0, bIds[0], 0, real);
                System.arraycopy(types, 0, bTypes[0], 0, real);
                System.arraycopy(mask, 0, bMask[0], 0, real);
                Arrays.fill(bIds[1], 5);
                Arrays.fill(bMask[1], 1);
                // padded positions hold arbitrary ids: the mask alone must remove them
                Arrays.fill(bIds[0], real, padded, 7);
                float[] inBatch = m.run(bIds, bTypes, bMask, false).logits()[0];
                for (int c = 0; c < alone.length; c++) {
                    max = Math.max(max, Math.abs(alone[c] - inBatch[c]));
                }
            }
        }
        return max;
    }
}
