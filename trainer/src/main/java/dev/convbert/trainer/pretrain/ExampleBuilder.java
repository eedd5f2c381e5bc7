package dev.convbert.trainer.pretrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Packs tokenised sentences into pre-training examples exactly as ELECTRA's {@code ExampleBuilder} after its fix
 * (commit 1ed0852; ConvBERT ships the pre-fix condition, see docs/RECIPE.md §c): lines accumulate until the target
 * length is reached; then, with probability 0.1 everything goes to one segment, otherwise sentences fill segment A up
 * to (target − 3)/2 and the rest go to B; layout {@code [CLS] A [SEP] (B [SEP])}, A truncated to max − 2, B to what is
 * left. With probability 0.05 the next target length is uniform in [5, max].
 */
public final class ExampleBuilder {
    /** One example: token ids and the length of {@code [CLS] A [SEP]} (segment 0). */
    public record Example(int[] ids, int firstSegmentLength) {}

    private final int maxLength;
    private final int cls;
    private final int sep;
    private final Random random;
    private final List<int[]> sentences = new ArrayList<>();
    private int currentLength;
    private int targetLength;

    public ExampleBuilder(int maxLength, int clsId, int sepId, Random random) {
        this.maxLength = maxLength;
        this.cls = clsId;
        this.sep = sepId;
        this.random = random;
        this.targetLength = maxLength;
    }

    /** Adds one tokenised line; an empty one ends the document. Returns a finished example or {@code null}. */
    public Example addLine(int[] tokens) {
        if (tokens.length == 0) {
            return currentLength != 0 ? create() : null;
        }
        sentences.add(tokens);
        currentLength += tokens.length;
        return currentLength >= targetLength ? create() : null;
    }

    private Example create() {
        int firstTarget = random.nextDouble() < 0.1 ? 100_000 : (targetLength - 3) / 2;
        List<Integer> a = new ArrayList<>();
        List<Integer> b = new ArrayList<>();
        for (int[] s : sentences) {
            // the fixed condition: A while empty, while it fits, or (B still empty and A short) half of the time
            if (a.isEmpty() || a.size() + s.length < firstTarget
                    || (b.isEmpty() && a.size() < firstTarget && random.nextDouble() < 0.5)) {
                for (int t : s) a.add(t);
            } else {
                for (int t : s) b.add(t);
            }
        }
        List<Integer> first = a.subList(0, Math.min(a.size(), maxLength - 2));
        List<Integer> second = b.subList(0, Math.min(b.size(), Math.max(0, maxLength - first.size() - 3)));
        sentences.clear();
        currentLength = 0;
        targetLength = random.nextDouble() < 0.05 ? 5 + random.nextInt(maxLength - 4) : maxLength;

        int len = first.size() + 2 + (second.isEmpty() ? 0 : second.size() + 1);
        int[] ids = new int[len];
        int i = 0;
        ids[i++] = cls;
        for (int t : first) ids[i++] = t;
        ids[i++] = sep;
        int firstLen = i;
        if (!second.isEmpty()) {
            for (int t : second) ids[i++] = t;
            ids[i++] = sep;
        }
        return new Example(ids, firstLen);
    }
}
