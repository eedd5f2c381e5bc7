package dev.convbert.trainer.pretrain;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
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
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.Seeds;
import dev.convbert.trainer.loop.TrainState;
import dev.convbert.trainer.loop.TrainingLoop;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.trainer.model.ConvBertWeights;
import dev.convbert.trainer.model.ElectraPretraining;
import dev.convbert.trainer.model.Scalars;
import dev.convbert.trainer.model.TaskModel;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.GradientClipping;
import dev.convbert.trainer.optim.Precision;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

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

    /** Sums over one slice of a batch; the loss terms are already divided by the whole batch's counts. */
    record Stats(double mlmLoss, double discLoss, int mlmRight, int mlmCount, int discRight, int tp, int fp, int fn,
                 int real) {
        Stats plus(Stats o) {
            return new Stats(mlmLoss + o.mlmLoss, discLoss + o.discLoss, mlmRight + o.mlmRight, mlmCount + o.mlmCount,
                    discRight + o.discRight, tp + o.tp, fp + o.fp, fn + o.fn, real + o.real);
        }
    }

    /** One device's copy of the model; {@code params} in the order of the optimizer's groups. */
    private record Replica(NDManager manager, ElectraPretraining model, ParameterStore ps, List<Parameter> params) {}

    /** A batch on the host: token ids, segment ids, real lengths, and the masking drawn for it. */
    record HostBatch(long[][] ids, long[][] types, int[] lengths, Masking.Masked masked) {
        /** Rows [from, to), for one replica. */
        HostBatch rows(int from, int to) {
            Masking.Masked m = masked;
            return new HostBatch(Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(types, from, to),
                    Arrays.copyOfRange(lengths, from, to), new Masking.Masked(
                    Arrays.copyOfRange(m.generatorInput(), from, to), Arrays.copyOfRange(m.positions(), from, to),
                    Arrays.copyOfRange(m.weights(), from, to), Arrays.copyOfRange(m.originals(), from, to)));
        }

        double maskedSlots() {
            double n = 0;
            for (float[] row : masked.weights()) {
                for (float w : row) {
                    n += w;
                }
            }
            return n;
        }

        long tokens() {
            long n = 0;
            for (int l : lengths) {
                n += l;
            }
            return n;
        }
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

        List<Replica> replicas = new ArrayList<>();
        boolean half = cfg.precision() == Precision.FP16;
        try (NDManager root = NDManager.newBaseManager(devices.get(0))) {
            // fp16: the fp32 masters are a model of their own on the first device, outside every graph; each replica
            // trains an fp16 copy. fp32: the first replica's weights are the masters.
            ElectraPretraining masters = null;
            if (half) {
                masters = new ElectraPretraining(discConfig, genConfig);
                ConvBertWeights.initialize(masters, discConfig, root, cfg.seed());
            }
            for (Device d : devices) {
                NDManager manager = root.newSubManager(d);
                ElectraPretraining model = new ElectraPretraining(discConfig, genConfig);
                if (half) {
                    for (var n : ConvBertWeights.unique(masters).values()) {
                        ConvBertWeights.unique(model).get(n.name()).parameter().setArray(halfCopy(n.parameter().getArray(), manager));
                    }
                } else {
                    ConvBertWeights.initialize(model, discConfig, manager, cfg.seed());
                }
                List<Parameter> params = new ArrayList<>();
                ConvBertWeights.unique(model).values().forEach(n -> params.add(n.parameter()));
                replicas.add(new Replica(manager, model, new ParameterStore(manager, false), params));
            }
            ElectraPretraining model = half ? masters : replicas.get(0).model();
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
            List<Parameter> masterParams = groups.stream().map(ParamGroup::parameter).toList();
            List<Replica> copies = half ? replicas : replicas.subList(1, replicas.size());
            broadcast(masterParams, copies);
            replicas.forEach(r -> r.params().forEach(p -> p.getArray().setRequiresGradient(true)));
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
                state = loop.run(new ReplacedTokenDetection(replicas, model, masterParams, copies, data, plan, masking, seeds, log),
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
        private final List<Replica> replicas;
        private final ElectraPretraining masters;
        private final List<Parameter> masterParams;
        private final List<Replica> copies;
        private final PretrainData data;
        private final BatchPlan plan;
        private final Masking masking;
        private final Seeds seeds;
        private final TrainingLog log;

        /**
         * @param masters the weights the optimizer updates: the first replica's in fp32, a model of their own in fp16
         * @param copies  the replicas that take the masters' weights after each update
         */
        ReplacedTokenDetection(List<Replica> replicas, ElectraPretraining masters, List<Parameter> masterParams,
                               List<Replica> copies, PretrainData data, BatchPlan plan, Masking masking, Seeds seeds,
                               TrainingLog log) {
            this.replicas = replicas;
            this.masters = masters;
            this.masterParams = masterParams;
            this.copies = copies;
            this.data = data;
            this.plan = plan;
            this.masking = masking;
            this.seeds = seeds;
            this.log = log;
        }

        @Override
        public TrainingLoop.StepResult forwardBackward(long step, double lossScale) {
            HostBatch batch = hostBatch(data, plan.batch(step), masking, seeds.masking(step));
            double slots = Math.max(batch.maskedSlots(), 1e-6);
            double real = Math.max(batch.tokens(), 1e-6);
            List<PendingStats> pending = new ArrayList<>();
            for (int k = 0; k < replicas.size(); k++) {
                int from = k * batch.lengths().length / replicas.size();
                int to = (k + 1) * batch.lengths().length / replicas.size();
                Replica r = replicas.get(k);
                pending.add(step(r.model(), r.ps(), r.manager(), batch.rows(from, to), masking.slots(), slots, real, lossScale));
            }
            Stats s = null;
            for (PendingStats p : pending) {
                Stats part = p.read();
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
            return sumGradients(replicas, lossScale);
        }

        @Override
        public void updated() {
            broadcast(masterParams, copies);
        }

        @Override
        public void cleared(double norm) {
            // the loop cleared the arrays sumGradients returned: in fp32 the first replica's own gradients
            clearGradients(copies, norm);
        }

        @Override
        public List<SafeTensor> weights() {
            return ConvBertWeights.toSafeTensors(masters);
        }

        @Override
        public void checkpointed(long step) throws IOException {
            saveDiscriminator(masters);
            log.info(fmt("step %d: checkpoint and discriminator saved", step));
        }
    }

    private void saveDiscriminator(ElectraPretraining model) throws IOException {
        Path dir = out.resolve("discriminator");
        ModelDir.write(dir, discConfig, ConvBertWeights.toSafeTensors(model.discriminator()), vocab, Map.of("format", "pt"));
    }

    /**
     * The replicas' gradients summed on the first device, divided by the loss scale, in the order of the optimizer's
     * groups; the caller closes them. fp32: summed into the first replica's own gradients (the caller clears those), the
     * other replicas' stay until {@link #clearGradients}. fp16: new fp32 arrays; every replica's stay.
     */
    private static List<NDArray> sumGradients(List<Replica> replicas, double lossScale) {
        Replica first = replicas.get(0);
        List<NDArray> grads = new ArrayList<>(first.params().size());
        for (int i = 0; i < first.params().size(); i++) {
            NDArray g = first.params().get(i).getArray().getGradient();
            if (g.getDataType() != DataType.FLOAT32) {
                try (NDArray half = g) {
                    g = half.toType(DataType.FLOAT32, false);
                }
            }
            for (Replica r : replicas.subList(1, replicas.size())) {
                try (NDArray other = r.params().get(i).getArray().getGradient();
                     NDArray here = other.toDevice(g.getDevice(), true);
                     NDArray wide = here.toType(DataType.FLOAT32, true)) {
                    g.addi(wide);
                }
            }
            grads.add(lossScale == 1 ? g : g.divi(lossScale));
        }
        return grads;
    }

    private static void clearGradients(List<Replica> replicas, double norm) {
        for (Replica r : replicas) {
            for (Parameter p : r.params()) {
                try (NDArray g = p.getArray().getGradient()) {
                    GradientClipping.zero(g, norm);
                }
            }
        }
    }

    /** Copies the masters' weights into the replicas' parameters, in place, in the replicas' type and on their devices. */
    private static void broadcast(List<Parameter> masters, List<Replica> replicas) {
        for (Replica r : replicas) {
            for (int i = 0; i < masters.size(); i++) {
                NDArray target = r.params().get(i).getArray();
                try (NDArray typed = masters.get(i).getArray().toType(target.getDataType(), true);
                     NDArray source = typed.toDevice(target.getDevice(), true)) {
                    target.set(new NDIndex("..."), source);
                }
            }
        }
    }

    /** An fp16 copy of a master's array, owned by a replica's manager (on its device). */
    private static NDArray halfCopy(NDArray master, NDManager manager) {
        try (NDArray half = master.toType(DataType.FLOAT16, true)) {
            NDArray copy = half.toDevice(manager.getDevice(), true);
            copy.attach(manager);
            return copy;
        }
    }

    /** The batch's examples padded to its longest, and their masking. */
    static HostBatch hostBatch(PretrainData data, int[] batch, Masking masking, Random rnd) {
        int b = batch.length;
        int len = 0;
        for (int i : batch) {
            len = Math.max(len, data.ids(i).length);
        }
        long[][] ids = new long[b][len];
        long[][] types = new long[b][len];
        int[] lengths = new int[b];
        for (int r = 0; r < b; r++) {
            int[] ex = data.ids(batch[r]);
            int first = data.firstSegmentLength(batch[r]);
            lengths[r] = ex.length;
            for (int j = 0; j < ex.length; j++) {
                ids[r][j] = ex[j];
                types[r][j] = j < first ? 0 : 1;
            }
        }
        return new HostBatch(ids, types, lengths, masking.mask(ids, lengths, rnd));
    }

    /**
     * One forward/backward pass over a slice of the batch, queued on the replica's device without reading anything
     * back: the generator's samples replace the masked tokens on the device and the step's sums stay there until
     * {@link PendingStats#read}, so on GPUs the replicas' work overlaps instead of each waiting for the host.
     * Gradients accumulate on the replica's parameters. The MLM loss is divided by {@code maskedSlots} and the
     * discriminator loss by {@code realTokens} — the whole batch's counts — so the slices' losses (and gradients) add
     * up to the whole batch's.
     */
    PendingStats step(ElectraPretraining model, ParameterStore ps, NDManager manager, HostBatch batch, int n,
                      double maskedSlots, double realTokens, double lossScale) {
        long[][] ids = batch.ids();
        int b = ids.length;
        int len = ids[0].length;
        int[] lengths = batch.lengths();
        long[][] mask = new long[b][len];
        int real = 0;
        for (int r = 0; r < b; r++) {
            Arrays.fill(mask[r], 0, lengths[r], 1L);
            real += lengths[r];
        }
        Masking.Masked m = batch.masked();
        long[][] replaced = replacedSlots(m, len);
        try (NDManager step = manager.newSubManager()) {
            NDArray idsNd = TaskModel.matrix(step, ids);
            NDArray typesNd = TaskModel.matrix(step, batch.types());
            NDArray maskNd = TaskModel.matrix(step, mask);
            NDArray positions = TaskModel.matrix(step, m.positions());
            NDArray weights = step.create(flatF(m.weights()), new Shape(b, n));
            NDArray originals = TaskModel.matrix(step, m.originals());
            NDArray replacedAt = step.create(replaced[0]);
            NDArray replacedFrom = step.create(replaced[1]);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                // generator: masked LM on the masked input, logits only at the masked slots
                NDArray genIn = TaskModel.matrix(step, m.generatorInput());
                NDArray genHidden = model.generator().encode(ps, new NDList(genIn, typesNd, maskNd), true, null);
                long gh = genHidden.getShape().get(2);
                NDArray index = positions.expandDims(2).repeat(2, gh);                        // [B, N, gh]
                NDArray logits = fp32(model.mlmLogits(ps, genHidden.gather(index, 1), true), step); // [B, N, V]
                NDArray logp = logits.logSoftmax(2);
                NDArray nll = logp.gather(originals.expandDims(2), 2).squeeze(2).neg();     // [B, N]
                NDArray mlmLoss = nll.mul(weights).sum().div(Scalars.like(nll, maskedSlots));

                // sampling: Gumbel-max at the configured temperature, no gradient into the generator
                NDArray predicted = logits.stopGradient().argMax(2);                          // [B, N]
                NDArray sampled = predicted;
                if (cfg.temperature() > 0) {
                    NDArray scaled = cfg.temperature() == 1.0 ? logits.stopGradient()
                            : logits.stopGradient().div(Scalars.like(logits, cfg.temperature()));
                    NDArray u = step.randomUniform(0f, 1f, logits.getShape());
                    NDArray gumbel = u.add(1e-9f).log().neg().add(1e-9f).log().neg();
                    sampled = scaled.add(gumbel).argMax(2);
                }

                // discriminator on the corrupted input: every weighted slot's position replaced by its sample
                NDArray discIn = idsNd.flatten().put(replacedAt, sampled.take(replacedFrom)).reshape(b, len);
                NDArray y = discIn.neq(idsNd).toType(DataType.FLOAT32, false);                // [B, L]: replaced
                NDArray discHidden = model.discriminator().encode(ps, new NDList(discIn, typesNd, maskNd), true, null);
                NDArray x = fp32(model.discriminatorLogits(ps, discHidden, true), step);      // [B, L]
                NDArray maskF = maskNd.toType(DataType.FLOAT32, false);
                // sigmoid cross-entropy, stable form: max(x,0) − x·y + log(1 + e^−|x|)
                NDArray bce = x.maximum(Scalars.like(x, 0)).sub(x.mul(y)).add(x.abs().neg().exp().add(1f).log());
                NDArray discLoss = bce.mul(maskF).sum().div(Scalars.like(bce, realTokens));
                NDArray loss = mlmLoss.add(discLoss.mul(Scalars.like(discLoss, cfg.discWeight())));
                // an array of this step's manager, not a Number: autograd keeps the factor for the backward pass
                gc.backward(lossScale == 1 ? loss : loss.mul(step.create(new float[]{(float) lossScale})));

                NDArray mlmRight = predicted.eq(originals).toType(DataType.FLOAT32, false).mul(weights).sum();
                NDArray flagged = x.stopGradient().gt(Scalars.like(x, 0)).toType(DataType.FLOAT32, false).mul(maskF);
                NDArray sums = NDArrays.stack(new NDList(mlmLoss.stopGradient(), discLoss.stopGradient(), mlmRight,
                        flagged.mul(y).sum(), flagged.sum(), y.mul(maskF).sum()));
                sums.attach(manager);                                                         // outlives this step
                return new PendingStats(sums, (int) Math.round(batch.maskedSlots()), real);
            }
        }
    }

    /**
     * Logits in fp32, where the losses are taken: an fp16 array plus an fp32 zero row promotes to fp32 and, unlike a
     * cast, keeps autograd's path back into the fp16 graph. fp32 logits pass through.
     */
    private static NDArray fp32(NDArray logits, NDManager step) {
        if (logits.getDataType() == DataType.FLOAT32) {
            return logits;
        }
        long last = logits.getShape().get(logits.getShape().dimension() - 1);
        return logits.add(step.zeros(new Shape(last), DataType.FLOAT32));
    }

    /**
     * The slots whose sample replaces a token: per weighted slot, its flat position in [B·L] and its flat index in
     * [B·N]; a position drawn twice is replaced once, by its last slot (as {@link Masking} applies it once).
     */
    static long[][] replacedSlots(Masking.Masked m, int len) {
        Map<Long, Long> last = new LinkedHashMap<>();
        int n = m.positions()[0].length;
        for (int r = 0; r < m.positions().length; r++) {
            for (int s = 0; s < n; s++) {
                if (m.weights()[r][s] > 0) {
                    last.put((long) r * len + m.positions()[r][s], (long) r * n + s);
                }
            }
        }
        long[][] out = new long[2][last.size()];
        int i = 0;
        for (var e : last.entrySet()) {
            out[0][i] = e.getKey();
            out[1][i++] = e.getValue();
        }
        return out;
    }

    /** A replica's step sums on its device: the MLM and discriminator losses and counts, read once all are queued. */
    record PendingStats(NDArray sums, int mlmCount, int real) {
        Stats read() {
            try (NDArray held = sums) {
                float[] v = held.toFloatArray();
                int tp = Math.round(v[3]);
                int fp = Math.round(v[4]) - tp;
                int fn = Math.round(v[5]) - tp;
                return new Stats(v[0], v[1], Math.round(v[2]), mlmCount, real - fp - fn, tp, fp, fn, real);
            }
        }
    }

    private static float[] flatF(float[][] rows) {
        int w = rows[0].length;
        float[] out = new float[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }
}
