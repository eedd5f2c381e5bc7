package dev.convbert.core.predict;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The front door of every scoring command: an opened model with what scoring it needs, decided once — the model's own
 * vocabulary (or a given one it was trained with) and its tokenizer, the length texts are cut at (the trained one
 * unless --max-length says otherwise, never past the model's positions) and the labels. The
 * engines (DJL, ONNX Runtime) open the {@link Predictor}; this does not own it.
 */
public final class ScoringModel {
    /** Where texts are cut when neither --max-length nor the model says (BERT's fine-tuning length). */
    public static final int DEFAULT_MAX_LENGTH = 128;

    private final Predictor predictor;
    private final Path model;
    private final Path vocabOption;
    private final int maxLength;
    private Path vocab;
    private BertTokenizer tokenizer;

    private ScoringModel(Predictor predictor, Path model, Path vocabOption, int maxLength) {
        this.predictor = predictor;
        this.model = model;
        this.vocabOption = vocabOption;
        this.maxLength = maxLength;
    }

    /**
     * A classifier to score texts with ({@code purpose}: "scoring", "serving", …): refused without a classification
     * head or a vocabulary it was trained with.
     */
    public static ScoringModel classifier(Predictor predictor, ModelSpec options, String purpose) {
        Predictor.requireClassificationHead(predictor, options.model(), purpose);
        ScoringModel s = any(predictor, options);
        s.tokenizer();
        return s;
    }

    /** Any model (an encoder too), whose vocabulary is looked for only when text needs it (predict's id lines do not). */
    public static ScoringModel any(Predictor predictor, ModelSpec options) {
        int positions = predictor.config().maxPositionEmbeddings();
        int length = options.maxLength() != null ? options.maxLength()
                : predictor.trainedMaxLength().orElse(DEFAULT_MAX_LENGTH);
        if (length < 2) {
            throw new InvalidInputException("--max-length " + length + ": expected 2 or more ([CLS] and [SEP] take two)");
        }
        return new ScoringModel(predictor, options.model(), options.vocab(), Math.min(length, positions));
    }

    public Predictor predictor() {
        return predictor;
    }

    public Path model() {
        return model;
    }

    /** Where texts are cut, in tokens: --max-length, else the trained length, else the default; within the positions. */
    public int maxLength() {
        return maxLength;
    }

    public List<String> labels() {
        return predictor.config().id2label();
    }

    /** The vocabulary texts are tokenized with, checked against the model's; refused (naming --vocab) when it has none. */
    public synchronized Path vocab() {
        if (vocab == null) {
            vocab = Predictor.textVocab(predictor, model, vocabOption);
        }
        return vocab;
    }

    public synchronized BertTokenizer tokenizer() {
        if (tokenizer == null) {
            try {
                tokenizer = new BertTokenizer(Vocab.read(vocab()));
            } catch (IOException e) {
                throw new UncheckedIOException(vocab() + ": cannot be read: " + e.getMessage(), e);
            }
        }
        return tokenizer;
    }
}
