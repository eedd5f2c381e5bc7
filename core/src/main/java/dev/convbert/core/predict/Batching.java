package dev.convbert.core.predict;

/**
 * How many rows share a forward pass: at most {@code maxRows}, and at most {@code maxTokens} padded tokens
 * (rows × the longest row). A token budget lets short sentences run in large passes and long ones in small passes.
 */
public record Batching(int maxRows, int maxTokens) {
    public Batching {
        if (maxRows < 1 || maxTokens < 1) {
            throw new IllegalArgumentException("batching needs at least one row and one token, got " + maxRows + " rows, "
                    + maxTokens + " tokens");
        }
    }

    /** Up to {@code rows} rows whatever their length. */
    public static Batching rows(int rows) {
        return new Batching(rows, Integer.MAX_VALUE);
    }
}
