package dev.convbert.trainer.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.trainer.optim.LossScale;
import dev.convbert.trainer.optim.Precision;

/**
 * Hyper-parameters of a fine-tuning run. The optimisation defaults are the original ConvBERT/ELECTRA recipe
 * (docs/RECIPE.md §d): AdamW ε 1e-6 without bias correction, weight decay 0.01 (not on biases/LayerNorm), 10 % warm-up
 * then linear decay, layer-wise lr decay 0.8, global-norm clipping at 1.0, batch 32, max_seq_length 128, 3 epochs
 * (10 for RTE and STS-B). The head (HF's; {@link ClassifierHead#ELECTRA} for the original's), length bucketing and
 * best-dev selection follow HF (docs/RECIPE.md §f says why). Printed at start and stored with every checkpoint; a
 * resumed run must match it.
 */
public record FineTuneConfig(GlueTask task, double learningRate, int batchSize, double epochs, long maxSteps,
                             double warmupFraction, double weightDecay, double layerDecay, double maxGradNorm,
                             int maxSeqLength, long seed, int evalEvery, int saveEvery, boolean lengthBucketing,
                             int maxTrainExamples, boolean doubleUnordered, ClassifierHead head, Precision precision,
                             double initialLossScale) {

    /** The original recipe for {@code task} with the lr of {@code modelSize} (3e-4 small/medium-small, 1e-4 base). */
    public static FineTuneConfig original(GlueTask task, boolean base) {
        boolean doubled = task == GlueTask.MRPC || task == GlueTask.STS_B;
        return new Builder().task(task).learningRate(base ? 1e-4 : 3e-4).batchSize(32)
                .epochs(task == GlueTask.RTE || task == GlueTask.STS_B ? 10 : 3).maxSteps(0).warmupFraction(0.1)
                .weightDecay(0.01).layerDecay(0.8).maxGradNorm(1.0).maxSeqLength(128).seed(42).evalEvery(0).saveEvery(500)
                .lengthBucketing(true).maxTrainExamples(0).doubleUnordered(doubled).head(ClassifierHead.HF)
                .precision(Precision.FP32).initialLossScale(LossScale.INITIAL).build();
    }

    /** A builder holding this run's values: the way to change one ({@code original(t, false).toBuilder().seed(7).build()}). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Field-by-field construction; setters are named as the record's components. {@code maxSteps} &gt; 0 replaces
     * {@code epochs}; {@code head} is HF's ({@link ClassifierHead#HF}) or the original ELECTRA head and loss;
     * {@code precision} fp16 is mixed precision with fp32 masters and dynamic loss scaling from
     * {@code initialLossScale} (GradScaler's init_scale, default 2^16).
     */
    public static final class Builder {
        private GlueTask task;
        private double learningRate;
        private int batchSize;
        private double epochs;
        private long maxSteps;
        private double warmupFraction;
        private double weightDecay;
        private double layerDecay;
        private double maxGradNorm;
        private int maxSeqLength;
        private long seed;
        private int evalEvery;
        private int saveEvery;
        private boolean lengthBucketing;
        private int maxTrainExamples;
        private boolean doubleUnordered;
        private ClassifierHead head;
        private Precision precision;
        private double initialLossScale;

        private Builder() {
        }

        private Builder(FineTuneConfig c) {
            task = c.task;
            learningRate = c.learningRate;
            batchSize = c.batchSize;
            epochs = c.epochs;
            maxSteps = c.maxSteps;
            warmupFraction = c.warmupFraction;
            weightDecay = c.weightDecay;
            layerDecay = c.layerDecay;
            maxGradNorm = c.maxGradNorm;
            maxSeqLength = c.maxSeqLength;
            seed = c.seed;
            evalEvery = c.evalEvery;
            saveEvery = c.saveEvery;
            lengthBucketing = c.lengthBucketing;
            maxTrainExamples = c.maxTrainExamples;
            doubleUnordered = c.doubleUnordered;
            head = c.head;
            precision = c.precision;
            initialLossScale = c.initialLossScale;
        }

        public Builder task(GlueTask value) { task = value; return this; }
        public Builder learningRate(double value) { learningRate = value; return this; }
        public Builder batchSize(int value) { batchSize = value; return this; }
        public Builder epochs(double value) { epochs = value; return this; }
        public Builder maxSteps(long value) { maxSteps = value; return this; }
        public Builder warmupFraction(double value) { warmupFraction = value; return this; }
        public Builder weightDecay(double value) { weightDecay = value; return this; }
        public Builder layerDecay(double value) { layerDecay = value; return this; }
        public Builder maxGradNorm(double value) { maxGradNorm = value; return this; }
        public Builder maxSeqLength(int value) { maxSeqLength = value; return this; }
        public Builder seed(long value) { seed = value; return this; }
        public Builder evalEvery(int value) { evalEvery = value; return this; }
        public Builder saveEvery(int value) { saveEvery = value; return this; }
        public Builder lengthBucketing(boolean value) { lengthBucketing = value; return this; }
        public Builder maxTrainExamples(int value) { maxTrainExamples = value; return this; }
        public Builder doubleUnordered(boolean value) { doubleUnordered = value; return this; }
        public Builder head(ClassifierHead value) { head = value; return this; }
        public Builder precision(Precision value) { precision = value; return this; }
        public Builder initialLossScale(double value) { initialLossScale = value; return this; }

        public FineTuneConfig build() {
            return new FineTuneConfig(task, learningRate, batchSize, epochs, maxSteps, warmupFraction, weightDecay,
                    layerDecay, maxGradNorm, maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples,
                    doubleUnordered, head, precision, initialLossScale);
        }
    }

    /** What the loss scale starts as: dynamic from {@link #initialLossScale} in fp16, none in fp32. */
    public LossScale lossScale() {
        return precision == Precision.FP16 ? LossScale.dynamicFrom(initialLossScale) : LossScale.NONE;
    }

    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("task", task.id());
        o.put("learning_rate", learningRate);
        o.put("batch_size", batchSize);
        o.put("epochs", epochs);
        o.put("max_steps", maxSteps);
        o.put("warmup_fraction", warmupFraction);
        o.put("weight_decay", weightDecay);
        o.put("layer_decay", layerDecay);
        o.put("max_grad_norm", maxGradNorm);
        o.put("max_seq_length", maxSeqLength);
        o.put("seed", seed);
        o.put("eval_every", evalEvery);
        o.put("save_every", saveEvery);
        o.put("length_bucketing", lengthBucketing);
        o.put("max_train_examples", maxTrainExamples);
        o.put("double_unordered", doubleUnordered);
        if (head != ClassifierHead.HF) {
            // absent means HF's head, so runs checkpointed before the option existed still resume
            o.put("classifier_head", head.id());
        }
        if (precision != Precision.FP32) {
            // absent means fp32, so runs checkpointed before the option existed still resume
            o.put("precision", precision.id());
            o.put("initial_loss_scale", initialLossScale);
        }
        o.put("optimizer", "AdamW (beta1 0.9, beta2 0.999, eps 1e-6, no bias correction)");
        return o;
    }
}
