package dev.convbert.trainer.cli;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.cli.GlueOptions;
import dev.convbert.core.config.ClassifierHead;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.finetune.FineTuneConfig;
import dev.convbert.trainer.finetune.FineTuner;
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.StopSignals;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code convbert finetune}: GLUE fine-tuning with the original optimisation recipe; resumable. */
@Command(name = "finetune", defaultValueProvider = FinetuneCommand.Defaults.class,
        description = "Fine-tune ConvBERT on a GLUE task and keep the best dev checkpoint. Optimisation follows the "
                + "original ConvBERT/ELECTRA recipe; the head is HF's unless --head electra (docs/RECIPE.md lists every "
                + "difference). The output directory is a model directory (HF layout) with training_metrics.json, "
                + "train.log and metrics.jsonl.",
        footer = {"  convbert finetune --task sst-2 --data-dir $GLUE_DIR --model pretrained/ --output runs/sst2",
                "  convbert finetune --task rte --data-dir $GLUE_DIR --config small --vocab vocab.txt --output runs/rte",
                "  convbert finetune ... --output runs/rte --resume     # after a crash"})
public final class FinetuneCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    GlueOptions glue = new GlueOptions();

    @ArgGroup(exclusive = true, multiplicity = "1")
    Init init;

    static final class Init {
        @Option(names = "--model", description = "Pre-trained (or fine-tuned) model directory, HF layout.")
        Path model;

        @Option(names = "--config", description = "Random initialisation: tiny, small, medium-small, base or a config.json.")
        String config;
    }

    @Option(names = "--vocab", description = "vocab.txt (required with --config; default: the model's).")
    Path vocab;

    @Option(names = "--output", required = true, description = "Run directory: checkpoints, train.log, metrics.jsonl, and the "
            + "best model in HF layout (config.json, model.safetensors, vocab.txt, training_metrics.json).")
    Path output;

    @picocli.CommandLine.Mixin
    ResumeOptions resume = new ResumeOptions();

    @Option(names = "--max-steps", description = "Stop after this many steps (0: epochs decide; default ${DEFAULT-VALUE}).")
    long maxSteps;

    @Option(names = "--epochs", description = "Epochs (default: 3; 10 for RTE and STS-B).")
    Double epochs;

    @Option(names = "--max-train-examples", description = "Use only the first n training rows (smoke runs; 0: all, the default).")
    int maxTrainExamples;

    @Option(names = "--lr", description = "Peak learning rate (default: 3e-4; 1e-4 for base).")
    Double lr;

    @Option(names = "--batch-size", description = "(default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--warmup", description = "Warm-up fraction of the steps (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--weight-decay", description = "(default ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--layer-decay", description = "Layer-wise lr decay (1 = off; default ${DEFAULT-VALUE}).")
    double layerDecay;

    @Option(names = "--max-grad-norm", description = "(default ${DEFAULT-VALUE})")
    double maxGradNorm;

    @Option(names = "--max-seq-length", description = "(default ${DEFAULT-VALUE})")
    int maxSeqLength;

    @Option(names = "--seed", description = "(default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--eval-every", description = "Evaluate on dev every n steps (0: once per epoch; default ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--save-every", description = "Checkpoint every n steps (default ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--no-length-bucketing", description = "Plain shuffled batches (default: batches of similar length).")
    boolean noBucketing;

    @Option(names = "--no-double-unordered", description = "Do not add swapped pairs for MRPC/STS-B.")
    boolean noDouble;

    @Option(names = "--head", description = "Task head: hf (dense + GELU + out_proj, loads in HF) or electra (the original's: "
            + "out_proj on [CLS]; STS-B trained on label / 5). Default ${DEFAULT-VALUE}.")
    String head;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @picocli.CommandLine.Mixin
    DeviceOption device = new DeviceOption();

    @picocli.CommandLine.Mixin
    PrecisionOptions precision = new PrecisionOptions();

    @Override
    public Integer call() throws Exception {
        // the first Ctrl-C or SIGTERM ends the step in flight and checkpoints it; a second one exits at once
        try (StopSignals signals = StopSignals.install()) {
            tuner(resume.control(signals)).run(resume.resume());
        }
        return ExitCodes.OK;
    }

    /** The fine-tuner these options describe, run as {@code control} says. */
    FineTuner tuner(RunControl control) throws java.io.IOException {
        GlueTask t = glue.task();
        if (t == GlueTask.AX) {
            throw new InvalidInputException("AX has no training data; fine-tune mnli and run predict-glue --task mnli");
        }
        ConvBertConfig modelConfig = null;
        if (init.config != null) {
            if (vocab == null) {
                throw new InvalidInputException("--config needs --vocab FILE (the vocabulary the model is built for)");
            }
            modelConfig = ConvBertConfig.forVocabulary(init.config, vocab, Vocab.read(vocab).size());
        }
        // opened once: its config sizes the recipe, its vocabulary and weights start the run
        ModelDir pretrained = init.model != null ? ModelDir.open(init.model) : null;
        // the recipe's learning rate depends on the model's size, whether it comes from --config or --model
        ConvBertConfig sized = modelConfig != null ? modelConfig : pretrained.config();
        boolean base = sized.hiddenSize() >= 768;
        FineTuneConfig d = FineTuneConfig.original(t, base);
        FineTuneConfig cfg = d.toBuilder().learningRate(lr != null ? lr : d.learningRate())
                .epochs(epochs != null ? epochs : d.epochs()).maxSteps(maxSteps)
                .batchSize(batchSize).warmupFraction(warmup).weightDecay(weightDecay).layerDecay(layerDecay)
                .maxGradNorm(maxGradNorm).maxSeqLength(maxSeqLength).maxTrainExamples(maxTrainExamples)
                .lengthBucketing(!noBucketing).doubleUnordered(d.doubleUnordered() && !noDouble)
                .seed(seed).evalEvery(evalEvery).saveEvery(saveEvery).head(headOption())
                .precision(precision.precision()).initialLossScale(precision.lossScale()).build();
        precision.warnOnCpu(device.name(), spec != null ? spec.commandLine().getErr() : new java.io.PrintWriter(System.err, true));
        return new FineTuner(cfg, glue.dataDir(), output, new FineTuner.Source(pretrained, modelConfig, vocab),
                device.device(), control);
    }

    private ClassifierHead headOption() {
        try {
            return ClassifierHead.of(head);
        } catch (dev.convbert.core.config.ConfigException e) {
            throw new InvalidInputException("--head " + head + ": expected hf or electra");
        }
    }

    /** The recipe's task-independent defaults, read from {@link FineTuneConfig#original} so help and training agree. */
    static final class Defaults implements picocli.CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(picocli.CommandLine.Model.ArgSpec arg) {
            if (!(arg instanceof picocli.CommandLine.Model.OptionSpec o)) {
                return null;
            }
            FineTuneConfig d = FineTuneConfig.original(GlueTask.SST_2, false);
            Object v = switch (o.longestName()) {
                case "--max-steps" -> d.maxSteps();
                case "--max-train-examples" -> d.maxTrainExamples();
                case "--batch-size" -> d.batchSize();
                case "--warmup" -> d.warmupFraction();
                case "--weight-decay" -> d.weightDecay();
                case "--layer-decay" -> d.layerDecay();
                case "--max-grad-norm" -> d.maxGradNorm();
                case "--max-seq-length" -> d.maxSeqLength();
                case "--seed" -> d.seed();
                case "--eval-every" -> d.evalEvery();
                case "--save-every" -> d.saveEvery();
                case "--head" -> d.head().id();
                default -> null;
            };
            return v == null ? null : v.toString();
        }
    }
}
