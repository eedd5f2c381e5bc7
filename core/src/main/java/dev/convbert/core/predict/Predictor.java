package dev.convbert.core.predict;

import dev.convbert.core.config.ConvBertConfig;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded sequence-classification model, whatever runs it (DJL on PyTorch for a model directory, ONNX Runtime for an
 * exported {@code .onnx}), so {@code predict} and scoring treat both alike. Closing it frees its native memory.
 */
public interface Predictor extends AutoCloseable {

    /**
     * Outputs of one batch: logits [B][labels] ({@code null} for an encoder without a classification head);
     * last_hidden_state [B][L][Hd] when asked for, and always for an encoder.
     */
    record Output(float[][] logits, float[][][] lastHiddenState) {}

    ConvBertConfig config();

    /** Whether the model classifies (logits); an encoder ({@code ConvBertModel}) yields hidden states only. */
    boolean hasClassificationHead();

    /** Refuses an encoder where logits are needed ({@code what}: "scoring", "serving", …), saying what to do instead. */
    static void requireClassificationHead(Predictor p, Object model, String what) {
        if (!p.hasClassificationHead()) {
            String fineTune = model.toString().endsWith(".onnx")
                    ? "fine-tune the model directory it was exported from and export the result"
                    : "fine-tune it first (convbert finetune --model " + model + " …)";
            throw new dev.convbert.core.InvalidInputException(model + ": an encoder without a classification head cannot be used for "
                    + what + "; " + fineTune + ", or use 'convbert predict', which writes its hidden states");
        }
    }

    /** The vocabulary that belongs to the model, when it has one beside it. */
    Optional<Path> vocab();

    /**
     * The vocabulary to tokenize text for {@code p}: {@code given} (checked against what the model records), or the
     * model's own; a model without one takes token ids only, and text for it is refused naming the way out.
     */
    static Path textVocab(Predictor p, Path model, Path given) {
        Path v = given != null ? given : p.vocab().orElseThrow(() -> new dev.convbert.core.InvalidInputException(
                model + ": has no vocabulary of its own (a model directory's vocab.txt, an export's NAME.vocab.txt): it "
                        + "takes token ids only; pass --vocab FILE to tokenize text"));
        requireVocab(p, model, v);
        return v;
    }

    /** The sha256 of the vocabulary the model was trained with, where the model records it (or has it beside it). */
    Optional<String> vocabSha256();

    /**
     * The max_seq_length the model was fine-tuned with, as its export or model directory records it; empty when it
     * records none (a converted or pre-trained model). Scoring cuts texts there unless told otherwise.
     */
    default Optional<Integer> trainedMaxLength() {
        return Optional.empty();
    }

    /**
     * Refuses a vocabulary other than the model's: with two tokens swapped a model predicts confidently and wrongly,
     * so a mismatch is an error naming both, never a warning. A model that records no vocabulary is not checked.
     */
    static void requireVocab(Predictor p, Object model, Path vocab) {
        int size;
        try {
            size = dev.convbert.core.tokenize.Vocab.read(vocab).size();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(vocab + ": cannot be read: " + e.getMessage(), e);
        }
        if (size > p.config().vocabSize()) {
            throw new dev.convbert.core.InvalidInputException(vocab + ": has " + size + " tokens but " + model
                    + " embeds " + p.config().vocabSize() + " (vocab_size); ids past that have no embedding. Use the model's vocabulary");
        }
        String expected = p.vocabSha256().orElse(null);
        if (expected == null) {
            return;
        }
        String found;
        try {
            found = dev.convbert.core.io.Hashing.sha256(vocab);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(vocab + ": cannot be read: " + e.getMessage(), e);
        }
        if (!found.equals(expected)) {
            throw new dev.convbert.core.InvalidInputException(vocab + ": is not the vocabulary " + model + " was trained with "
                    + "(expected sha256 " + expected.substring(0, 12) + "…, found " + found.substring(0, 12) + "…); its ids "
                    + "would mean other tokens. Use the vocab.txt that came with the model"
                    + p.vocab().map(v -> " (" + v + ")").orElse(""));
        }
    }

    /**
     * Whether {@link #run} may be called from several threads at once (ONNX Runtime's sessions allow it); callers
     * that would run passes side by side run them one at a time otherwise.
     */
    default boolean concurrentRuns() {
        return false;
    }

    /** Runs one rectangular batch exactly as given (no padding added or removed). */
    Output run(long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask, boolean hiddenStates);

    @Override
    void close();
}
