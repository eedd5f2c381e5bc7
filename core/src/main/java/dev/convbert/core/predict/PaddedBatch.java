package dev.convbert.core.predict;

import dev.convbert.core.tokenize.Encoding;

import java.util.List;

/**
 * A rectangular batch: every row right-padded with id 0, type 0 and mask 0 to the longest row — the one place
 * encodings become the three int64 inputs every engine takes.
 */
public record PaddedBatch(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask) {

    /** Encodings (all real tokens) padded to the longest. */
    public static PaddedBatch of(List<Encoding> rows) {
        int len = rows.stream().mapToInt(Encoding::length).max().orElse(0);
        long[][] ids = new long[rows.size()][len];
        long[][] types = new long[rows.size()][len];
        long[][] mask = new long[rows.size()][len];
        for (int r = 0; r < rows.size(); r++) {
            Encoding e = rows.get(r);
            for (int j = 0; j < e.length(); j++) {
                ids[r][j] = e.inputIds()[j];
                types[r][j] = e.tokenTypeIds()[j];
                mask[r][j] = 1;
            }
        }
        return new PaddedBatch(ids, types, mask);
    }

    /** Rows given as ids, types and their own masks (predict's id input), padded to the longest. */
    public static PaddedBatch ofRows(List<long[]> ids, List<long[]> types, List<long[]> masks) {
        int len = ids.stream().mapToInt(r -> r.length).max().orElse(0);
        long[][] i = new long[ids.size()][len];
        long[][] t = new long[ids.size()][len];
        long[][] m = new long[ids.size()][len];
        for (int r = 0; r < ids.size(); r++) {
            System.arraycopy(ids.get(r), 0, i[r], 0, ids.get(r).length);
            System.arraycopy(types.get(r), 0, t[r], 0, types.get(r).length);
            System.arraycopy(masks.get(r), 0, m[r], 0, masks.get(r).length);
        }
        return new PaddedBatch(i, t, m);
    }

    public int size() {
        return inputIds.length;
    }

    /** Runs the batch on {@code p}. */
    public Predictor.Output run(Predictor p, boolean hiddenStates) {
        return p.run(inputIds, tokenTypeIds, attentionMask, hiddenStates);
    }
}
