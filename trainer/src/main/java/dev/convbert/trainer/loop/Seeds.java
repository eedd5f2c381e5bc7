package dev.convbert.trainer.loop;

import java.util.Random;

/**
 * Every random stream of a training run, derived from its one {@code seed} here and nowhere else: each is a pure
 * function of (seed, purpose, step or epoch), which is what makes a resumed run repeat an uninterrupted one exactly.
 * The engine and shuffle formulas are the ones every fine-tuning result in docs/RESULTS.md was trained with.
 */
public record Seeds(long seed) {
    private static final long MASKING = 0x6d61736b696e67L;

    /** PyTorch's generator before {@code step}: dropout masks and the generator's Gumbel noise. */
    public int engine(long step) {
        return (int) (seed * 1_000_003L + step);
    }

    /** The permutation of the examples in {@code epoch}. */
    public Random shuffle(long epoch) {
        return new Random(seed * 7_919L + epoch);
    }

    /**
     * Which tokens {@code step} masks. A stream of its own: drawn as {@code shuffle(step)} it repeated the numbers that
     * ordered epoch {@code step}, tying the masks of the first steps to the batch order.
     */
    public Random masking(long step) {
        return new Random(mix(mix(seed ^ MASKING) + step));
    }

    /** SplitMix64's finaliser: nearby inputs give unrelated outputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
