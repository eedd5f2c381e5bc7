package dev.convbert.trainer.loop;

import dev.convbert.core.tokenize.Encoding;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Which examples make up the batch of each step: a pure function of (seed, step), so a resumed run sees exactly the
 * batches an uninterrupted one would. Each epoch is a seeded permutation; with length bucketing, windows of 50 batches
 * are sorted by length before being cut into batches (less padding), and the batch order is shuffled again.
 */
public final class BatchPlan {
    private static final int BUCKET_WINDOW = 50;

    private final int[] lengths;
    private final int batchSize;
    private final Seeds seeds;
    private final boolean bucketing;
    private int cachedEpoch = -1;
    private List<int[]> cachedBatches;

    public BatchPlan(List<Encoding> examples, int batchSize, Seeds seeds, boolean bucketing) {
        this(examples.stream().mapToInt(Encoding::length).toArray(), batchSize, seeds, bucketing);
    }

    /** @param lengths the length of every example, by index */
    public BatchPlan(int[] lengths, int batchSize, Seeds seeds, boolean bucketing) {
        this.lengths = lengths;
        this.batchSize = batchSize;
        this.seeds = seeds;
        this.bucketing = bucketing;
    }

    public int stepsPerEpoch() {
        return (lengths.length + batchSize - 1) / batchSize;
    }

    /** Example indices of the batch at 0-based {@code step}. */
    public int[] batch(long step) {
        int epoch = (int) (step / stepsPerEpoch());
        if (epoch != cachedEpoch) {
            cachedBatches = batches(epoch);
            cachedEpoch = epoch;
        }
        return cachedBatches.get((int) (step % stepsPerEpoch()));
    }

    private List<int[]> batches(int epoch) {
        Random rnd = seeds.shuffle(epoch);
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            Integer t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        if (bucketing) {
            int window = BUCKET_WINDOW * batchSize;
            for (int start = 0; start < order.length; start += window) {
                Arrays.sort(order, start, Math.min(order.length, start + window), Comparator.comparingInt(i -> lengths[i]));
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            int[] b = new int[end - start];
            for (int i = start; i < end; i++) {
                b[i - start] = order[i];
            }
            out.add(b);
        }
        if (bucketing) {
            for (int i = out.size() - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int[] t = out.get(i);
                out.set(i, out.get(j));
                out.set(j, t);
            }
        }
        return out;
    }
}
