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
        double epochs = task == GlueTask.RTE || task == GlueTask.STS_B ? 10 : 3;
        boolean doubled = task == GlueTask.MRPC || task == GlueTask.STS_B;
        return new FineTuneConfig(task, base ? 1e-4 : 3e-4, 32, epochs, 0, 0.1, 0.01, 0.8, 1.0, 128, 42, 0, 500, true, 0,
                doubled, ClassifierHead.HF, Precision.FP32, LossScale.INITIAL);
    }

    public FineTuneConfig withLearningRate(double lr) {
        return new FineTuneConfig(task, lr, batchSize, epochs, maxSteps, warmupFraction, weightDecay, layerDecay, maxGradNorm,
                maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples, doubleUnordered, head, precision, initialLossScale);
    }

    /** How long: {@code epochs}, or exactly {@code steps} when positive. */
    public FineTuneConfig withLength(double epochs, long steps) {
        return new FineTuneConfig(task, learningRate, batchSize, epochs, steps, warmupFraction, weightDecay, layerDecay,
                maxGradNorm, maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples, doubleUnordered, head, precision, initialLossScale);
    }

    public FineTuneConfig withOptimisation(int batch, double warmup, double decay, double layerwiseDecay, double clipNorm) {
        return new FineTuneConfig(task, learningRate, batch, epochs, maxSteps, warmup, decay, layerwiseDecay, clipNorm,
                maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples, doubleUnordered, head, precision, initialLossScale);
    }

    public FineTuneConfig withData(int seqLength, int trainExamples, boolean bucketing, boolean doubled) {
        return new FineTuneConfig(task, learningRate, batchSize, epochs, maxSteps, warmupFraction, weightDecay, layerDecay,
                maxGradNorm, seqLength, seed, evalEvery, saveEvery, bucketing, trainExamples, doubled, head, precision, initialLossScale);
    }

    public FineTuneConfig withRun(long runSeed, int evalEverySteps, int saveEverySteps) {
        return new FineTuneConfig(task, learningRate, batchSize, epochs, maxSteps, warmupFraction, weightDecay, layerDecay,
                maxGradNorm, maxSeqLength, runSeed, evalEverySteps, saveEverySteps, lengthBucketing, maxTrainExamples,
                doubleUnordered, head, precision, initialLossScale);
    }

    /** The task head: HF's (the default, for HF checkpoints and tooling) or the original ELECTRA head and loss. */
    public FineTuneConfig withHead(ClassifierHead classifierHead) {
        return new FineTuneConfig(task, learningRate, batchSize, epochs, maxSteps, warmupFraction, weightDecay, layerDecay,
                maxGradNorm, maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples, doubleUnordered,
                classifierHead, precision, initialLossScale);
    }

    /** fp16: mixed precision with fp32 master weights and dynamic loss scaling ({@link Precision}); for GPUs. */
    public FineTuneConfig withPrecision(Precision p) {
        return new FineTuneConfig(task, learningRate, batchSize, epochs, maxSteps, warmupFraction, weightDecay, layerDecay,
                maxGradNorm, maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples, doubleUnordered,
                head, p, initialLossScale);
    }

    /** The loss scale an fp16 run starts from (GradScaler's init_scale; default 2^16); halved on each overflow. */
    public FineTuneConfig withInitialLossScale(double scale) {
        return new FineTuneConfig(task, learningRate, batchSize, epochs, maxSteps, warmupFraction, weightDecay, layerDecay,
                maxGradNorm, maxSeqLength, seed, evalEvery, saveEvery, lengthBucketing, maxTrainExamples, doubleUnordered,
                head, precision, scale);
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
