package dev.convbert.core.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Which sequence-classification head sits on the encoder's first token; stored in config.json as
 * {@code classifier_head} (absent = {@link #HF}). Both read the first token's hidden state after dropout.
 */
public enum ClassifierHead {
    /** HF's {@code ConvBertClassificationHead}: dense → GELU → dropout → out_proj; regression on the raw label. */
    HF("hf", 1.0),
    /**
     * The original ConvBERT/ELECTRA fine-tuning head: out_proj alone. Regression (STS-B) trains against label / 5, as
     * ELECTRA's regression task scales its 0–5 targets; the model multiplies its output by 5 so that predictions and
     * exported logits stay on the label's scale.
     */
    ELECTRA("electra", 5.0);

    private final String id;
    private final double regressionScale;

    ClassifierHead(String id, double regressionScale) {
        this.id = id;
        this.regressionScale = regressionScale;
    }

    public String id() {
        return id;
    }

    /** Regression output = scale × out_proj(x); the training loss is ((output − label) / scale)². */
    public double regressionScale() {
        return regressionScale;
    }

    public boolean hasDense() {
        return this == HF;
    }

    public static ClassifierHead of(String id) {
        for (ClassifierHead h : values()) {
            if (h.id.equals(id)) {
                return h;
            }
        }
        throw new ConfigException("field \"classifier_head\" is \"" + id + "\"; expected one of "
                + Arrays.stream(values()).map(ClassifierHead::id).collect(Collectors.joining(", ")));
    }
}
