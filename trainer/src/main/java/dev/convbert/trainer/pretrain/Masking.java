package dev.convbert.trainer.pretrain;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * ELECTRA's dynamic masking ({@code pretrain_helpers.mask}): per row n = max(1, min(N, round(0.15 · real tokens)))
 * slots among N = int((0.15 + 0.005) · max_length); positions drawn uniformly with replacement from the real tokens
 * other than [CLS], [SEP] and [MASK]; slots ≥ n get weight 0; 85 % of the chosen positions become [MASK], the rest stay
 * (no random-token replacement); a position drawn twice is applied once.
 */
public final class Masking {
    /** A masked batch: generator input, and per slot the position, weight and original token. */
    public record Masked(long[][] generatorInput, long[][] positions, float[][] weights, long[][] originals) {}

    private final int slots;
    private final int maskId;
    private final Set<Integer> never;

    public Masking(int maxLength, int maskId, int clsId, int sepId, int padId) {
        this.slots = (int) ((0.15 + 0.005) * maxLength);
        this.maskId = maskId;
        this.never = Set.of(clsId, sepId, maskId, padId);
    }

    public int slots() {
        return slots;
    }

    public Masked mask(long[][] ids, int[] lengths, Random rnd) {
        int b = ids.length;
        long[][] input = new long[b][];
        long[][] positions = new long[b][slots];
        float[][] weights = new float[b][slots];
        long[][] originals = new long[b][slots];
        for (int r = 0; r < b; r++) {
            input[r] = ids[r].clone();
            List<Integer> candidates = new ArrayList<>();
            for (int p = 0; p < lengths[r]; p++) {
                if (!never.contains((int) ids[r][p])) {
                    candidates.add(p);
                }
            }
            int n = Math.max(1, Math.min(slots, (int) Math.round(0.15 * lengths[r])));
            Set<Integer> applied = new HashSet<>();
            for (int s = 0; s < slots; s++) {
                if (s >= n || candidates.isEmpty()) {
                    positions[r][s] = 0;       // unused slot: position 0 ([CLS]), weight 0, never updated
                    originals[r][s] = ids[r][0];
                    continue;
                }
                int p = candidates.get(rnd.nextInt(candidates.size()));
                positions[r][s] = p;
                weights[r][s] = 1f;
                originals[r][s] = ids[r][p];
                boolean toMask = rnd.nextDouble() < 0.85;
                if (applied.add(p) && toMask) {
                    input[r][p] = maskId;
                }
            }
        }
        return new Masked(input, positions, weights, originals);
    }
}
