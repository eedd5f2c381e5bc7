package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.config.ConvBertConfig;

import java.util.List;

/**
 * Sequence classification / regression (HF {@code ConvBertForSequenceClassification}): the encoder under
 * {@code convbert}, then {@code classifier}: first token → dropout → dense → GELU → dropout → out_proj (HF's head), or
 * first token → dropout → out_proj (the original's, {@link ClassifierHead#ELECTRA}). num_labels = 1 is regression.
 *
 * <p>Forward inputs: input_ids, token_type_ids, attention_mask (int64 [B, L]); outputs: logits [B, num_labels],
 * last_hidden_state [B, L, Hd].
 */
public final class ConvBertForSequenceClassification extends HfBlock {
    private final ConvBertModel convbert;
    private final ClassificationHead classifier;

    public ConvBertForSequenceClassification(ConvBertConfig config) {
        convbert = addChildBlock("convbert", new ConvBertModel(config));
        classifier = addChildBlock("classifier", new ClassificationHead(config));
    }

    public ConvBertConfig config() {
        return convbert.config();
    }

    public ConvBertModel encoder() {
        return convbert;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return run(ps, inputs, training, null);
    }

    /** Logits and last_hidden_state; {@code hiddenStates}, when given, collects every layer's output. */
    public NDList run(ParameterStore ps, NDList inputs, boolean training, List<NDArray> hiddenStates) {
        NDArray last = convbert.encode(ps, inputs, training, hiddenStates);
        NDArray logits = classifier.forward(ps, new NDList(last), training).singletonOrThrow();
        return new NDList(logits, last);
    }

    /** HF {@code ConvBertClassificationHead}, or without its dense layer the original ELECTRA head. */
    static final class ClassificationHead extends HfBlock {
        private final LinearLayer dense;
        private final LinearLayer outProj;
        private final float dropout;
        private final double outputScale;

        ClassificationHead(ConvBertConfig c) {
            ClassifierHead head = c.classifierHead();
            dense = head.hasDense() ? addChildBlock("dense", new LinearLayer(c.hiddenSize(), c.hiddenSize())) : null;
            outProj = addChildBlock("out_proj", new LinearLayer(c.hiddenSize(), c.numLabels()));
            dropout = (float) c.effectiveClassifierDropout();
            outputScale = c.isRegression() ? head.regressionScale() : 1.0;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow().get(":, 0, :");                       // [B, Hd], the [CLS] position
            x = Dropout.dropout(x, dropout, training).singletonOrThrow();
            if (dense != null) {
                x = Activation.gelu(dense.apply(ps, x, training));
                x = Dropout.dropout(x, dropout, training).singletonOrThrow();
            }
            NDArray out = outProj.apply(ps, x, training);
            return new NDList(outputScale == 1.0 ? out : out.mul(Scalars.like(out, outputScale)));
        }
    }
}
