package dev.convbert.benchmarks;

import dev.convbert.core.predict.PaddedBatch;

import java.util.Random;

/** The token ids every timing runs on: random, one segment, no padding, reproducible from a seed. */
final class SyntheticIds {
    /** BERT's vocabulary keeps [PAD], [unusedN] and the special tokens below this id; real text never uses them. */
    private static final int RESERVED = 1000;

    private SyntheticIds() {}

    /**
     * A batch of ids drawn above the reserved block when the vocabulary is large enough to have one, else above
     * [PAD] (a 100-token test vocabulary had every cell fail with "bound must be positive").
     */
    static PaddedBatch batch(int batch, int seq, int vocabSize, long seed) {
        Random rnd = new Random(seed);
        int lo = vocabSize > 2 * RESERVED ? RESERVED : 1;
        long[][] ids = new long[batch][seq];
        long[][] types = new long[batch][seq];
        long[][] mask = new long[batch][seq];
        for (int i = 0; i < batch; i++) {
            for (int j = 0; j < seq; j++) {
                ids[i][j] = lo + rnd.nextInt(vocabSize - lo);
                mask[i][j] = 1;
            }
        }
        return new PaddedBatch(ids, types, mask);
    }
}
