package dev.convbert.trainer.cli;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.loop.StopSignals;
import dev.convbert.trainer.model.DjlPredictorProvider;
import dev.convbert.trainer.pretrain.PretrainConfig;
import dev.convbert.trainer.pretrain.PretrainData;
import dev.convbert.trainer.pretrain.Pretrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code convbert pretrain}: ELECTRA-style replaced-token detection. */
@Command(name = "pretrain",
        description = "Pre-train ConvBERT with replaced-token detection (generator + discriminator, ELECTRA-style). Writes "
                + "checkpoints, metrics.jsonl, train.log and discriminator/ (a model directory for finetune --model).",
        footer = "  convbert pretrain --data data/pretrain --config small --output runs/pretrain --max-steps 100000")
public final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "Output of build-data.")
    Path data;

    @Option(names = "--config", required = true, description = "tiny, small, medium-small, base or a config.json.")
    String config;

    @Option(names = "--vocab", description = "Default: the vocab.txt build-data stored with the data; if given, it must be that file.")
    Path vocab;

    @Option(names = "--output", required = true, description = "Run directory: checkpoints, logs, discriminator/.")
    Path output;

    @Option(names = "--max-steps", defaultValue = "1000000", description = "Length of the schedule (default ${DEFAULT-VALUE}).")
    long maxSteps;

    @Option(names = "--batch-size", description = "Default: 128 (256 for base).")
    Integer batchSize;

    @Option(names = "--lr", description = "Default: 3e-4 small, 5e-4 medium-small, 2e-4 base.")
    Double lr;

    @Option(names = "--warmup-steps", description = "Default: min(10000, max-steps/10).")
    Long warmup;

    @Option(names = "--generator-size", description = "Generator width as a fraction of the discriminator's (default 0.25; 1/3 base).")
    Double generatorSize;

    @Option(names = "--save-every", defaultValue = "1000", description = "Checkpoint every n steps (default ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of every random stream (default ${DEFAULT-VALUE}).")
    long seed;

    @picocli.CommandLine.Mixin
    ResumeOptions resume = new ResumeOptions();

    @Option(names = "--temperature", description = "Sampling temperature of the generator's replacements (default 1, "
            + "ELECTRA's; 0 takes its most likely token).")
    Double temperature;

    @Option(names = "--stop-after", paramLabel = "STEP", description = "Stop after this step with a checkpoint, keeping "
            + "the --max-steps schedule; continue later with --resume (for jobs that run in time windows; default: run to the end).")
    Long stopAfter;

    @picocli.CommandLine.Mixin
    PrecisionOptions precision = new PrecisionOptions();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--device", defaultValue = "cpu",
            description = "cpu, gpu (data-parallel over every visible GPU), gpu:N or gpu:N,M,… (default ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() throws Exception {
        Path vocab = PretrainData.vocab(data, this.vocab);
        int vocabSize = Vocab.read(vocab).size();
        ConvBertConfig disc = ConvBertConfig.forVocabulary(config, vocab, vocabSize);
        PretrainConfig d = PretrainConfig.original(disc, maxSteps);
        // the masking budget follows the length the examples were built for (build-data --max-seq-length)
        int dataLength = new com.fasterxml.jackson.databind.ObjectMapper().readTree(data.resolve("manifest.json").toFile())
                .path("max_seq_length").asInt(d.maxSeqLength());
        if (dataLength > disc.maxPositionEmbeddings()) {
            throw new InvalidInputException(data + ": examples of up to " + dataLength + " tokens, but the config has "
                    + disc.maxPositionEmbeddings() + " positions (max_position_embeddings); rebuild the data with a smaller "
                    + "--max-seq-length or use a config with more positions");
        }
        PretrainConfig cfg = new PretrainConfig(lr != null ? lr : d.learningRate(), batchSize != null ? batchSize : d.batchSize(),
                maxSteps, warmup != null ? warmup : d.warmupSteps(), d.weightDecay(), d.maxGradNorm(), dataLength, seed,
                saveEvery, generatorSize != null ? generatorSize : d.generatorSize(), d.discWeight(),
                temperature != null ? temperature : d.temperature(), precision.precision(), precision.lossScale());
        precision.warnOnCpu(device, spec.commandLine().getErr());
        if (cfg.temperature() < 0) {
            throw new InvalidInputException("--temperature " + cfg.temperature() + ": expected 0 (the generator's argmax) or more");
        }
        if (stopAfter != null && (stopAfter < 1 || stopAfter > maxSteps)) {
            throw new InvalidInputException("--stop-after " + stopAfter + ": expected a step from 1 to --max-steps " + maxSteps);
        }
        // the first Ctrl-C or SIGTERM ends the step in flight and checkpoints it; a second one exits at once
        try (StopSignals signals = StopSignals.install()) {
            new Pretrainer(cfg, disc, data, vocab, output, DjlPredictorProvider.devices(device),
                    resume.control(signals)).run(resume.resume(), stopAfter != null ? stopAfter : maxSteps);
        }
        return ExitCodes.OK;
    }
}
