package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.trainer.optim.LossScale;
import dev.convbert.trainer.optim.Precision;

import java.util.List;

/**
 * Pre-training hyper-parameters; defaults from the original per model size (docs/RECIPE.md §c): lr 3e-4 small,
 * 5e-4 medium-small, 2e-4 base; batch 128 (256 base); warm-up 10,000 steps; weight decay 0.01; clip 1.0; seq 128;
 * generator a quarter of the discriminator's width (a third for base); loss = MLM + 50 × discriminator; the
 * discriminator's input sampled from the generator at temperature 1 (ELECTRA's {@code temperature}; 0 takes the
 * generator's most likely token, which makes the corrupted input independent of the random stream).
 */
public record PretrainConfig(double learningRate, int batchSize, long maxSteps, long warmupSteps, double weightDecay,
                             double maxGradNorm, int maxSeqLength, long seed, int saveEvery, double generatorSize,
                             double discWeight, double temperature, Precision precision, double initialLossScale) {

    public static PretrainConfig original(ConvBertConfig disc, long maxSteps) {
        boolean base = disc.hiddenSize() >= 768;
        double lr = base ? 2e-4 : disc.numGroups() > 1 ? 5e-4 : 3e-4;
        return new PretrainConfig(lr, base ? 256 : 128, maxSteps, Math.min(10_000, maxSteps / 10), 0.01, 1.0, 128, 42, 1000,
                base ? 1.0 / 3 : 0.25, 50.0, 1.0, Precision.FP32, LossScale.INITIAL);
    }

    /**
     * The generator: the discriminator's depth, kernel, groups and head ratio at {@code generatorSize} of its width,
     * intermediate 4 × hidden. Its head count is rounded up to an even number so HF's head layout can describe it
     * (the original's small generator, 1 head at head_ratio 2, cannot be).
     */
    public ConvBertConfig generatorConfig(ConvBertConfig d) {
        int hidden = (int) Math.round(d.hiddenSize() * generatorSize);
        int heads = Math.max(2, (int) Math.round(d.numAttentionHeads() * generatorSize));
        heads += heads % 2;
        while (hidden % heads != 0 || (hidden / heads) * heads != hidden) {
            heads += 2;
        }
        return d.toBuilder().hiddenSize(hidden).numAttentionHeads(heads).intermediateSize(4 * hidden)
                .numGroups(hidden % d.numGroups() == 0 ? d.numGroups() : 1).id2label(List.of("LABEL_0", "LABEL_1"))
                .extra(null).build();
    }

    public PretrainConfig withTemperature(double t) {
        return new PretrainConfig(learningRate, batchSize, maxSteps, warmupSteps, weightDecay, maxGradNorm, maxSeqLength,
                seed, saveEvery, generatorSize, discWeight, t, precision, initialLossScale);
    }

    /** fp16: mixed precision with fp32 masters and dynamic loss scaling from {@code lossScale} ({@link Precision}). */
    public PretrainConfig withPrecision(Precision p, double lossScale) {
        return new PretrainConfig(learningRate, batchSize, maxSteps, warmupSteps, weightDecay, maxGradNorm, maxSeqLength,
                seed, saveEvery, generatorSize, discWeight, temperature, p, lossScale);
    }

    /** What the loss scale starts as: dynamic from {@link #initialLossScale} in fp16, none in fp32. */
    public LossScale lossScale() {
        return precision == Precision.FP16 ? LossScale.dynamicFrom(initialLossScale) : LossScale.NONE;
    }

    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("learning_rate", learningRate);
        o.put("batch_size", batchSize);
        o.put("max_steps", maxSteps);
        o.put("warmup_steps", warmupSteps);
        o.put("weight_decay", weightDecay);
        o.put("max_grad_norm", maxGradNorm);
        o.put("max_seq_length", maxSeqLength);
        o.put("seed", seed);
        o.put("save_every", saveEvery);
        o.put("generator_size", generatorSize);
        o.put("disc_weight", discWeight);
        o.put("temperature", temperature);
        o.put("mask_prob", 0.15);
        if (precision != Precision.FP32) {
            // absent means fp32, so runs checkpointed before the option existed still resume
            o.put("precision", precision.id());
            o.put("initial_loss_scale", initialLossScale);
        }
        o.put("optimizer", "AdamW (beta1 0.9, beta2 0.999, eps 1e-6, no bias correction)");
        return o;
    }
}
