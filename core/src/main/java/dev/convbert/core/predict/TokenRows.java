package dev.convbert.core.predict;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.tokenize.Encoding;

import java.util.List;

/**
 * Checks rows of token ids given by a user (predict's id lines, the Open Inference Protocol's INT64 tensors) against
 * the model's config before they reach an engine: an id past the embedding tables makes PyTorch and ONNX Runtime fail
 * deep inside a Gather, which would read as a bug instead of the caller's mistake.
 */
public final class TokenRows {
    private TokenRows() {}

    /**
     * Refuses, naming {@code where} and the field: a length outside 1..max_position_embeddings, ids outside
     * [0, vocab_size), token types outside [0, type_vocab_size), mask values other than 0 and 1, and a mask with no
     * real token (every position masked out leaves the attention softmax nothing to attend to: no answer is defined).
     * {@code types} and {@code mask} may be null (all zeros, all ones).
     */
    public static void check(ConvBertConfig config, long[] ids, long[] types, long[] mask, String where) {
        if (ids.length == 0 || ids.length > config.maxPositionEmbeddings()) {
            throw new InvalidInputException(where + ": input_ids has " + ids.length + " entries; expected 1 to "
                    + config.maxPositionEmbeddings() + " (max_position_embeddings)");
        }
        for (int j = 0; j < ids.length; j++) {
            if (ids[j] < 0 || ids[j] >= config.vocabSize()) {
                throw new InvalidInputException(where + ": input_ids[" + j + "] = " + ids[j] + " is outside the vocabulary [0, "
                        + config.vocabSize() + ") (vocab_size)");
            }
            if (types != null && (types[j] < 0 || types[j] >= config.typeVocabSize())) {
                throw new InvalidInputException(where + ": token_type_ids[" + j + "] = " + types[j] + " is outside [0, "
                        + config.typeVocabSize() + ") (type_vocab_size)");
            }
        }
        if (mask == null) {
            return;
        }
        boolean any = false;
        for (int j = 0; j < mask.length; j++) {
            if (mask[j] != 0 && mask[j] != 1) {
                throw new InvalidInputException(where + ": attention_mask[" + j + "] = " + mask[j] + "; expected 0 or 1");
            }
            any |= mask[j] == 1;
        }
        if (!any) {
            throw new InvalidInputException(where + ": attention_mask is all zeros; at least one position must be 1"
                    + " (a row with no real token has no defined output)");
        }
    }

    /**
     * A right-padded row (ones, then zeros in {@code mask}) checked as {@link #check} does, as the {@link Encoding} of
     * its real tokens — what the server's micro-batcher takes. {@code types} and {@code mask} may be null.
     */
    public static Encoding rightPadded(ConvBertConfig config, long[] ids, long[] types, long[] mask, String where) {
        check(config, ids, types, mask, where);
        int real = ids.length;
        if (mask != null) {
            real = 0;
            for (int j = 0; j < mask.length; j++) {
                if (mask[j] == 1 && real != j) {
                    throw new InvalidInputException(where + ": attention_mask must be ones followed by zeros (right padding)");
                }
                real += (int) mask[j];
            }
        }
        int[] realIds = new int[real];
        int[] realTypes = new int[real];
        for (int j = 0; j < real; j++) {
            realIds[j] = (int) ids[j];
            realTypes[j] = types == null ? 0 : (int) types[j];
        }
        return new Encoding(realIds, realTypes, List.of());
    }
}
