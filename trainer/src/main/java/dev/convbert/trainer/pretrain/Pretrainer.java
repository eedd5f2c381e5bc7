package dev.convbert.trainer.pretrain;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.OutputLock;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.trainer.loop.BatchPlan;
import dev.convbert.trainer.loop.Replicas;
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.Seeds;
import dev.convbert.trainer.loop.TrainState;
import dev.convbert.trainer.loop.TrainingLoop;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.trainer.model.ConvBertWeights;
import dev.convbert.trainer.model.ElectraPretraining;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.Precision;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.convbert.trainer.log.TrainingLog.fmt;

/**
 * ELECTRA-style replaced-token-detection pre-training on the shared {@link TrainingLoop}. A step: mask (our RNG, a
 * function of (seed, step)), generator MLM on the masked input, Gumbel-max sampling without gradient, discriminator on
 * the corrupted input, loss = MLM + 50 × discriminator; the loop clips and applies AdamW. The discriminator is saved as
 * a model directory (HF {@code ConvBertModel} names) that {@code finetune --model} takes.
 *
 * <p>Data-parallel over several devices: each device holds a replica and takes a contiguous slice of the batch. Every
 * slice's losses are divided by the whole batch's counts (masked slots, real tokens), so the replicas' gradients
 * <em>sum</em> to the full batch's gradient — the sum is taken on the first device, which alone owns the optimizer and
 * then copies the updated weights to the others. Slices run one after another from this thread (DJL allows one gradient
 * collector at a time); CUDA queues each device's kernels asynchronously, so the devices overlap between host reads.
 */
public final class Pretrainer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String DATA_SHA256 = "data_sha256";

    private final PretrainConfig cfg;
    private final ConvBertConfig discConfig;
    private final Path dataDir;
    private final Path vocab;
    private final Path out;
    private final List<Device> devices;
    private final RunControl control;

    public Pretrainer(PretrainConfig cfg, ConvBertConfig discConfig, Path dataDir, Path vocab, Path out, List<Device> devices) {
        this(cfg, discConfig, dataDir, vocab, out, devices, RunControl.defaults());
    }

    /** {@code devices}: one replica per entry, the first owns the optimizer and the checkpoints. */
    public Pretrainer(PretrainConfig cfg, ConvBertConfig discConfig, Path dataDir, Path vocab, Path out, List<Device> devices,
                      RunControl control) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("no device to train on");
        }
        if (devices.size() > cfg.batchSize()) {
            throw new InvalidInputException("--batch-size " + cfg.batchSize() + " is smaller than the " + devices.size()
                    + " devices it is split over; use a batch of at least one example per device");
        }
        this.cfg = cfg;
        this.discConfig = discConfig;
        this.dataDir = dataDir;
        this.vocab = vocab;
        this.out = out;
        this.devices = List.copyOf(devices);
        this.control = control;
    }

    public ObjectNode run(boolean resume) throws IOException {
        return run(resume, cfg.maxSteps());
    }

    /** As {@link #run(boolean)}, but stops after step {@code stopAt} with a checkpoint; {@code resume} continues. */
    public ObjectNode run(boolean resume, long stopAt) throws IOException {
        PretrainData data = new PretrainData(dataDir);
        Vocab v = Vocab.read(vocab);
        if (data.manifest().get("vocab_size").asInt() != v.size() || discConfig.vocabSize() != v.size()) {
            throw new InvalidInputException("vocabulary mismatch: data built with " + data.manifest().get("vocab_size").asInt()
                    + " tokens, " + vocab + " has " + v.size() + ", config vocab_size " + discConfig.vocabSize());
        }
        try (OutputLock lock = OutputLock.acquire(out, "pretrain")) {
            return train(resume, stopAt, data, v);
        }
    }

    private ObjectNode train(boolean resume, long stopAt, PretrainData data, Vocab v) throws IOException {
        Checkpoints checkpoints = control.checkpoints(out);
        var loaded = checkpoints.open(resume);
        ConvBertConfig genConfig = cfg.generatorConfig(discConfig);
        Masking masking = new Masking(cfg.maxSeqLength(), v.maskId(), v.clsId(), v.sepId(), v.padId());
        Seeds seeds = new Seeds(cfg.seed());
        BatchPlan plan = new BatchPlan(data.lengths(), cfg.batchSize(), seeds, false);
        LrSchedule schedule = new LrSchedule(cfg.learningRate(), cfg.warmupSteps(), cfg.maxSteps());

        boolean half = cfg.precision() == Precision.FP16;
        try (NDManager root = NDManager.newBaseManager(devices.get(0))) {
            Replicas<ElectraPretraining> replicas = Replicas.create(root, devices, half,
                    () -> new ElectraPretraining(discConfig, genConfig),
                    (m, manager) -> ConvBertWeights.initialize(m, discConfig, manager, cfg.seed()));
            ElectraPretraining model = replicas.masters();
            List<ParamGroup> groups = new ArrayList<>();
            for (var n : ConvBertWeights.unique(model).values()) {
                groups.add(new ParamGroup(n.name(), n.parameter(), ParamGroup.decays(n.name()), 1.0));
            }
            AdamW optimizer = AdamW.original(cfg.weightDecay());
            ObjectNode run = cfg.toJson();
            run.put("discriminator_config", discConfig.toJson().toString());
            run.put("generator_config", genConfig.toJson().toString());
            run.put("data_examples", data.size());
            // data rebuilt in place keeps its example count; the shards' hashes tell it apart
            if (loaded.isEmpty() || loaded.get().state().path("run").has(DATA_SHA256)) {
                run.put(DATA_SHA256, data.fingerprint());
            }
            TrainState state = loaded.isPresent()
                    ? TrainState.fromJson(Checkpoints.restore(loaded.get(), run, groups, optimizer))
                    : TrainState.start(run, cfg.lossScale());
            if (stopAt < cfg.maxSteps() && stopAt <= state.step()) {
                throw new InvalidInputException("--stop-after " + stopAt + ": " + out + " is already at step " + state.step()
                        + "; give a later step, or leave --stop-after out to finish the run");
            }
            replicas.start();
            try (TrainingLog log = new TrainingLog(out, "pretrain", state.step(), cfg.maxSteps())) {
                log.info(fmt("%s pre-training: %d examples, %d steps of %d; discriminator %d parameters (hidden %d), generator hidden %d; devices %s; %s",
                        state.step() > 0 ? "resuming" : "starting", data.size(), cfg.maxSteps(), cfg.batchSize(),
                        discConfig.parameterCount(), discConfig.hiddenSize(), genConfig.hiddenSize(), devices,
                        half ? fmt("fp16 mixed precision (fp32 masters, loss scale %.0f)", state.lossScale().scale()) : "fp32"));
                log.info("hyper-parameters: " + cfg.toJson());
                loaded.ifPresent(ck -> TrainingLoop.resumingFrom(ck, log));
                if (loaded.isPresent() && !run.has(DATA_SHA256)) {
                    log.info("the checkpoint predates data fingerprints: the data's content is not checked on this resume");
                }
                var loop = new TrainingLoop(new TrainingLoop.Schedule(cfg.maxSteps(), stopAt, 0, cfg.saveEvery(), cfg.maxGradNorm()),
                        schedule, seeds, groups, optimizer, checkpoints, log);
                state = loop.run(new ReplacedTokenDetection(replicas, data, plan, masking, seeds, log),
                        state, control.stop());

                ObjectNode metrics = JSON.createObjectNode();
                metrics.put("steps", cfg.maxSteps());
                metrics.put("completed_steps", state.step());
                metrics.put("wall_time_seconds", state.elapsedSeconds());
                metrics.set("hyperparameters", cfg.toJson());
                metrics.put("examples", data.size());
                metrics.put("discriminator_parameters", discConfig.parameterCount());
                metrics.put("generator_hidden_size", genConfig.hiddenSize());
                metrics.put("devices", devices.toString());
                AtomicFiles.writeString(out.resolve("pretrain_metrics.json"), JSON.writeValueAsString(metrics));
                log.info(state.step() < cfg.maxSteps()
                        ? fmt("stopped after step %d of %d; continue with --resume; %.0f s of training", state.step(),
                                cfg.maxSteps(), state.elapsedSeconds())
                        : fmt("done: %d steps; discriminator in %s; %.0f s of training", state.step(),
                                out.resolve("discriminator"), state.elapsedSeconds()));
                return metrics;
            }
        }
    }

    /**
     * Pre-training as the loop's {@link TrainingLoop.Task}: each step masks its batch, runs every replica on its slice,
     * sums their gradients into the first; after an update the first replica's weights are copied to the others.
     */
    private final class ReplacedTokenDetection implements TrainingLoop.Task {
        private final Replicas<ElectraPretraining> replicas;
        private final ElectraStep electra = new ElectraStep(cfg.temperature(), cfg.discWeight());
        private final PretrainData data;
        private final BatchPlan plan;
        private final Masking masking;
        private final Seeds seeds;
        private final TrainingLog log;

        ReplacedTokenDetection(Replicas<ElectraPretraining> replicas, PretrainData data, BatchPlan plan, Masking masking,
                               Seeds seeds, TrainingLog log) {
            this.replicas = replicas;
            this.data = data;
            this.plan = plan;
            this.masking = masking;
            this.seeds = seeds;
            this.log = log;
        }

        @Override
        public TrainingLoop.StepResult forwardBackward(long step, double lossScale) {
            ElectraStep.HostBatch batch = ElectraStep.hostBatch(data, plan.batch(step), masking, seeds.masking(step));
            double slots = Math.max(batch.maskedSlots(), 1e-6);
            double real = Math.max(batch.tokens(), 1e-6);
            List<ElectraStep.PendingStats> pending = new ArrayList<>();
            for (int k = 0; k < replicas.size(); k++) {
                int from = k * batch.lengths().length / replicas.size();
                int to = (k + 1) * batch.lengths().length / replicas.size();
                var r = replicas.all().get(k);
                pending.add(electra.run(r.model(), r.ps(), r.manager(), batch.rows(from, to), masking.slots(), slots, real, lossScale));
            }
            ElectraStep.Stats s = null;
            for (ElectraStep.PendingStats p : pending) {
                ElectraStep.Stats part = p.read();
                s = s == null ? part : s.plus(part);
            }
            double mlmAccuracy = s.mlmCount() == 0 ? 0 : (double) s.mlmRight() / s.mlmCount();
            double discAccuracy = (double) s.discRight() / s.real();
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("mlm_loss", s.mlmLoss());
            metrics.put("mlm_accuracy", mlmAccuracy);
            metrics.put("disc_loss", s.discLoss());
            metrics.put("disc_accuracy", discAccuracy);
            metrics.put("disc_precision", s.tp() + s.fp() == 0 ? 0 : (double) s.tp() / (s.tp() + s.fp()));
            metrics.put("disc_recall", s.tp() + s.fn() == 0 ? 0 : (double) s.tp() / (s.tp() + s.fn()));
            return new TrainingLoop.StepResult(s.mlmLoss() + cfg.discWeight() * s.discLoss(), batch.lengths().length,
                    batch.tokens(), metrics, fmt("mlm %.3f (acc %.3f) disc %.4f (acc %.3f)", s.mlmLoss(), mlmAccuracy,
                    s.discLoss(), discAccuracy));
        }

        @Override
        public List<NDArray> gradients(double lossScale) {
            return replicas.sumGradients(lossScale);
        }

        @Override
        public void updated() {
            replicas.broadcast();
        }

        @Override
        public void cleared(double norm) {
            replicas.clearGradients(norm);
        }

        @Override
        public List<SafeTensor> weights() {
            return ConvBertWeights.toSafeTensors(replicas.masters());
        }

        @Override
        public void checkpointed(long step) throws IOException {
            saveDiscriminator(replicas.masters());
            log.info(fmt("step %d: checkpoint and discriminator saved", step));
        }
    }

    private void saveDiscriminator(ElectraPretraining model) throws IOException {
        Path dir = out.resolve("discriminator");
        ModelDir.write(dir, discConfig, ConvBertWeights.toSafeTensors(model.discriminator()), vocab, Map.of("format", "pt"));
    }
}
