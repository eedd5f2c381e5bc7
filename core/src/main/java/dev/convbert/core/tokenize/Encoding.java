package dev.convbert.core.tokenize;

import java.util.List;

/** One encoded example: {@code [CLS] a [SEP] (b [SEP])} ids, segment ids and the word pieces. */
public record Encoding(int[] inputIds, int[] tokenTypeIds, List<String> tokens) {
    public int length() {
        return inputIds.length;
    }
}
