package dev.convbert.trainer.pretrain;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.finetune.BatchPlan;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.trainer.model.ConvBertWeights;
import dev.convbert.trainer.model.ElectraPretraining;
import dev.convbert.trainer.model.TaskModel;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.GradientClipping;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.convbert.trainer.log.TrainingLog.fmt;

/**
 * ELECTRA-style replaced-token-detection pre-training, one loop top to bottom: mask (our RNG, a function of
 * (seed, step)), generator MLM on the masked input, Gumbel-max sampling without gradient, discriminator on the
 * corrupted input, loss = MLM + 50 × discriminator, global-norm clipping, AdamW. The discriminator is saved as a model
 * directory (HF {@code ConvBertModel} names) that {@code finetune --model} takes.
 */
public final class Pretrainer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final PretrainConfig cfg;
    private final ConvBertConfig discConfig;
    private final Path dataDir;
    private final Path vocab;
    private final Path out;
    private final Device device;

    public Pretrainer(PretrainConfig cfg, ConvBertConfig discConfig, Path dataDir, Path vocab, Path out, Device device) {
        this.cfg = cfg;
        this.discConfig = discConfig;
        this.dataDir = dataDir;
        this.vocab = vocab;
        this.out = out;
        this.device = device;
    }

    /** Per-step statistics. */
    record Stats(double loss, double mlmLoss, double mlmAccuracy, double discLoss, double discAccuracy,
                 double discPrecision, double discRecall, long tokens) {}

    public ObjectNode run(boolean resume) throws IOException {
        return runUntil(resume, cfg.maxSteps());
    }

    /** As {@link #run}, but stops after step {@code stopAt} with a checkpoint (an interrupted run, for tests). */
    ObjectNode runUntil(boolean resume, long stopAt) throws IOException {
        PretrainData data = new PretrainData(dataDir);
        Vocab v = Vocab.read(vocab);
        if (data.manifest().get("vocab_size").asInt() != v.size() || discConfig.vocabSize() != v.size()) {
            throw new InvalidInputException("vocabulary mismatch: data built with " + data.manifest().get("vocab_size").asInt()
                    + " tokens, " + vocab + " has " + v.size() + ", config vocab_size " + discConfig.vocabSize());
        }
        Checkpoints checkpoints = new Checkpoints(out);
        var loaded = checkpoints.open(resume);
        ConvBertConfig genConfig = cfg.generatorConfig(discConfig);
        Masking masking = new Masking(cfg.maxSeqLength(), v.maskId(), v.clsId(), v.sepId(), v.padId());
        BatchPlan plan = new BatchPlan(data.lengths(), cfg.batchSize(), cfg.seed(), false);
        LrSchedule schedule = new LrSchedule(cfg.learningRate(), cfg.warmupSteps(), cfg.maxSteps());

        try (NDManager manager = NDManager.newBaseManager(device)) {
            ElectraPretraining model = new ElectraPretraining(discConfig, genConfig);
            ConvBertWeights.initialize(model, discConfig, manager, cfg.seed());
            ParameterStore ps = new ParameterStore(manager, false);
            List<ParamGroup> groups = new ArrayList<>();
            for (var n : ConvBertWeights.unique(model).values()) {
                groups.add(new ParamGroup(n.name(), n.parameter(), ParamGroup.decays(n.name()), 1.0));
            }
            AdamW optimizer = AdamW.original(cfg.weightDecay());
            ObjectNode run = cfg.toJson();
            run.put("discriminator_config", discConfig.toJson().toString());
            run.put("generator_config", genConfig.toJson().toString());
            run.put("data_examples", data.size());
            ObjectNode state = JSON.createObjectNode();
            state.set("run", run);
            state.put("elapsed_seconds", 0.0);
            long start = 0;
            if (loaded.isPresent()) {
                Checkpoints.Loaded ck = loaded.get();
                state = Checkpoints.restore(ck, run, groups, optimizer, manager);
                start = ck.step();
            }
            groups.forEach(g -> g.parameter().getArray().setRequiresGradient(true));
            try (TrainingLog log = new TrainingLog(out, "pretrain", start, cfg.maxSteps())) {
                log.info(fmt("%s pre-training: %d examples, %d steps of %d; discriminator %d parameters (hidden %d), generator hidden %d",
                        start > 0 ? "resuming" : "starting", data.size(), cfg.maxSteps(), cfg.batchSize(),
                        discConfig.parameterCount(), discConfig.hiddenSize(), genConfig.hiddenSize()));
                log.info("hyper-parameters: " + cfg.toJson());
                double before = state.get("elapsed_seconds").asDouble();
                long t0 = System.nanoTime();
                long tokens = 0;
                for (long step = start; step < Math.min(stopAt, cfg.maxSteps()); step++) {
                    double lr = schedule.lr(step);
                    Engine.getInstance().setRandomSeed((int) (cfg.seed() * 1_000_003L + step));
                    Random rnd = new Random(cfg.seed() * 7_919L + step);
                    Stats s = step(model, ps, manager, data, plan.batch(step), masking, rnd);
                    if (!Double.isFinite(s.loss())) {
                        throw new IllegalStateException("loss became " + s.loss() + " at step " + step + "; lower --lr");
                    }
                    List<NDArray> grads = new ArrayList<>(groups.size());
                    for (ParamGroup g : groups) {
                        grads.add(g.parameter().getArray().getGradient());
                    }
                    double norm = GradientClipping.globalNorm(grads, cfg.maxGradNorm());
                    if (Double.isFinite(norm)) {
                        optimizer.step(groups, grads, lr);
                    } else {
                        log.info(fmt("step %d: gradient norm is %s; update skipped", step + 1, norm));
                    }
                    for (NDArray g : grads) {
                        GradientClipping.zero(g, norm);
                        g.close();
                    }
                    tokens += s.tokens();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    ObjectNode rec = JSON.createObjectNode().put("step", step + 1).put("loss", s.loss())
                            .put("mlm_loss", s.mlmLoss()).put("mlm_accuracy", s.mlmAccuracy()).put("disc_loss", s.discLoss())
                            .put("disc_accuracy", s.discAccuracy()).put("disc_precision", s.discPrecision())
                            .put("disc_recall", s.discRecall()).put("lr", lr).put("grad_norm", norm)
                            .put("tokens_per_s", tokens / Math.max(secs, 1e-9)).put("elapsed_s", before + secs);
                    log.step(rec, fmt("mlm %.3f (acc %.3f) disc %.4f (acc %.3f) lr %.1e %.0f tok/s", s.mlmLoss(), s.mlmAccuracy(),
                            s.discLoss(), s.discAccuracy(), lr, tokens / Math.max(secs, 1e-9)), (step + 1) % 50 == 0);
                    state.put("elapsed_seconds", before + (System.nanoTime() - t0) / 1e9);
                    state.put("updates", optimizer.updates());
                    boolean last = step + 1 == cfg.maxSteps() || step + 1 == stopAt;
                    if (last || (cfg.saveEvery() > 0 && (step + 1) % cfg.saveEvery() == 0)) {
                        checkpoints.save(step + 1, ConvBertWeights.toSafeTensors(model), optimizer.state(), state);
                        saveDiscriminator(model);
                        log.info(fmt("step %d: checkpoint and discriminator saved", step + 1));
                    }
                }
                ObjectNode metrics = JSON.createObjectNode();
                metrics.put("steps", cfg.maxSteps());
                metrics.put("wall_time_seconds", state.get("elapsed_seconds").asDouble());
                metrics.set("hyperparameters", cfg.toJson());
                metrics.put("examples", data.size());
                metrics.put("discriminator_parameters", discConfig.parameterCount());
                metrics.put("generator_hidden_size", genConfig.hiddenSize());
                AtomicFiles.writeString(out.resolve("pretrain_metrics.json"), JSON.writeValueAsString(metrics));
                return metrics;
            }
        }
    }

    private void saveDiscriminator(ElectraPretraining model) throws IOException {
        Path dir = out.resolve("discriminator");
        ModelDir.write(dir, discConfig, ConvBertWeights.toSafeTensors(model.discriminator()), vocab, Map.of("format", "pt"));
    }

    /** One forward/backward pass; gradients accumulate on the parameters. */
    Stats step(ElectraPretraining model, ParameterStore ps, NDManager manager, PretrainData data, int[] batch,
               Masking masking, Random rnd) {
        int b = batch.length;
        int len = 0;
        for (int i : batch) {
            len = Math.max(len, data.ids(i).length);
        }
        long[][] ids = new long[b][len];
        long[][] types = new long[b][len];
        long[][] mask = new long[b][len];
        int[] lengths = new int[b];
        for (int r = 0; r < b; r++) {
            int[] ex = data.ids(batch[r]);
            int first = data.firstSegmentLength(batch[r]);
            lengths[r] = ex.length;
            for (int j = 0; j < ex.length; j++) {
                ids[r][j] = ex[j];
                types[r][j] = j < first ? 0 : 1;
                mask[r][j] = 1;
            }
        }
        Masking.Masked m = masking.mask(ids, lengths, rnd);
        int n = masking.slots();
        try (NDManager step = manager.newSubManager()) {
            NDArray typesNd = TaskModel.matrix(step, types);
            NDArray maskNd = TaskModel.matrix(step, mask);
            NDArray positions = TaskModel.matrix(step, m.positions());
            NDArray weights = step.create(flatF(m.weights()), new Shape(b, n));
            NDArray originals = TaskModel.matrix(step, m.originals());
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                // generator: masked LM on the masked input, logits only at the masked slots
                NDArray genIn = TaskModel.matrix(step, m.generatorInput());
                NDArray genHidden = model.generator().encode(ps, new NDList(genIn, typesNd, maskNd), true, null);
                long gh = genHidden.getShape().get(2);
                NDArray index = positions.expandDims(2).repeat(2, gh);                        // [B, N, gh]
                NDArray logits = model.mlmLogits(ps, genHidden.gather(index, 1), true);       // [B, N, V]
                NDArray logp = logits.logSoftmax(2);
                NDArray nll = logp.gather(originals.expandDims(2), 2).squeeze(2).neg();     // [B, N]
                NDArray wsum = weights.sum();
                NDArray mlmLoss = nll.mul(weights).sum().div(wsum.add(1e-6f));

                // sampling: Gumbel-max at temperature 1, no gradient into the generator
                NDArray u = step.randomUniform(0f, 1f, logits.getShape());
                NDArray gumbel = u.add(1e-9f).log().neg().add(1e-9f).log().neg();
                long[] sampled = logits.stopGradient().add(gumbel).argMax(2).toLongArray();
                long[] predicted = logits.stopGradient().argMax(2).toLongArray();

                // discriminator on the corrupted input: every weighted slot replaced by the sample
                long[][] discIn = new long[b][];
                float[][] labels = new float[b][len];
                int mlmRight = 0;
                int mlmCount = 0;
                for (int r = 0; r < b; r++) {
                    discIn[r] = ids[r].clone();
                    for (int s = 0; s < n; s++) {
                        if (m.weights()[r][s] > 0) {
                            int p = (int) m.positions()[r][s];
                            discIn[r][p] = sampled[r * n + s];
                            mlmRight += predicted[r * n + s] == m.originals()[r][s] ? 1 : 0;
                            mlmCount++;
                        }
                    }
                    for (int p = 0; p < len; p++) {
                        labels[r][p] = discIn[r][p] != ids[r][p] ? 1f : 0f;
                    }
                }
                NDArray discHidden = model.discriminator().encode(ps,
                        new NDList(TaskModel.matrix(step, discIn), typesNd, maskNd), true, null);
                NDArray x = model.discriminatorLogits(ps, discHidden, true);                  // [B, L]
                NDArray y = step.create(flatF(labels), new Shape(b, len));
                NDArray maskF = maskNd.toType(DataType.FLOAT32, false);
                // sigmoid cross-entropy, stable form: max(x,0) − x·y + log(1 + e^−|x|)
                NDArray bce = x.maximum(0f).sub(x.mul(y)).add(x.abs().neg().exp().add(1f).log());
                NDArray discLoss = bce.mul(maskF).sum().div(maskF.sum().add(1e-6f));
                NDArray loss = mlmLoss.add(discLoss.mul((float) cfg.discWeight()));
                gc.backward(loss);

                float[] xs = x.toFloatArray();
                int tp = 0, fp = 0, fn = 0, right = 0, real = 0;
                for (int r = 0; r < b; r++) {
                    for (int p = 0; p < lengths[r]; p++) {
                        boolean pred = xs[r * len + p] > 0;
                        boolean gold = labels[r][p] > 0;
                        real++;
                        right += pred == gold ? 1 : 0;
                        tp += pred && gold ? 1 : 0;
                        fp += pred && !gold ? 1 : 0;
                        fn += !pred && gold ? 1 : 0;
                    }
                }
                long tokenCount = 0;
                for (int l : lengths) {
                    tokenCount += l;
                }
                return new Stats(loss.getFloat(), mlmLoss.getFloat(), mlmCount == 0 ? 0 : (double) mlmRight / mlmCount,
                        discLoss.getFloat(), (double) right / real, tp + fp == 0 ? 0 : (double) tp / (tp + fp),
                        tp + fn == 0 ? 0 : (double) tp / (tp + fn), tokenCount);
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
