package dev.convbert.trainer.finetune;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.metrics.GlueScore;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.trainer.model.ConvBertWeights;
import dev.convbert.trainer.model.TaskModel;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.GradientClipping;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.convbert.trainer.log.TrainingLog.fmt;

/**
 * GLUE fine-tuning, the original recipe in one readable loop: every batch and every dropout mask is a function of
 * (seed, step), and the optimiser state is ours, so a run resumed from its last checkpoint ends with exactly the
 * weights of an uninterrupted run.
 *
 * <p>The output directory is a model directory (HF layout) holding the best dev-set weights, plus
 * {@code training_metrics.json}, {@code train.log}, {@code metrics.jsonl} and the resume checkpoint.
 */
public final class FineTuner {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Where the run starts: a pre-trained/fine-tuned model directory, or a config for random initialisation. */
    public record Source(Path modelDir, ConvBertConfig config, Path vocab) {}

    private final FineTuneConfig cfg;
    private final Path dataDir;
    private final Path out;
    private final Source source;
    private final Device device;

    private final Runnable beforeCheckpointCommit;

    public FineTuner(FineTuneConfig cfg, Path dataDir, Path out, Source source, Device device) {
        this(cfg, dataDir, out, source, device, () -> { });
    }

    /** @param beforeCheckpointCommit see {@link Checkpoints#Checkpoints(Path, Runnable)} */
    public FineTuner(FineTuneConfig cfg, Path dataDir, Path out, Source source, Device device, Runnable beforeCheckpointCommit) {
        this.beforeCheckpointCommit = beforeCheckpointCommit;
        this.cfg = cfg;
        this.dataDir = dataDir;
        this.out = out;
        this.source = source;
        this.device = device;
    }

    /** Trains to the end (or resumes and finishes); returns training_metrics.json's content. */
    public ObjectNode run(boolean resume) throws IOException {
        GlueTask task = cfg.task();
        Path vocabFile = source.vocab() != null ? source.vocab()
                : source.modelDir() != null ? ModelDir.open(source.modelDir()).vocabFile() : null;
        if (vocabFile == null) {
            throw new InvalidInputException("no vocabulary: pass --vocab FILE with --config");
        }
        if (source.modelDir() != null && source.vocab() != null) {
            String expected = ModelDir.open(source.modelDir()).vocabSha256().orElse(null);
            if (expected != null && !expected.equals(Hashing.sha256(vocabFile))) {
                throw new InvalidInputException(vocabFile + ": is not the vocabulary of " + source.modelDir()
                        + " (sha256 " + expected.substring(0, 12) + "…); its weights are indexed by that one. Drop --vocab");
            }
        }
        for (String split : List.of("train", task.devSplits().get(0).name())) {
            if (!Files.isRegularFile(GlueReader.file(dataDir, task, split))) {
                throw new InvalidInputException(GlueReader.file(dataDir, task, split) + ": missing; fine-tuning "
                        + task.glueName() + " needs its train and dev splits in the original GLUE layout");
            }
        }
        Checkpoints checkpoints = new Checkpoints(out, beforeCheckpointCommit);
        var loaded = checkpoints.open(resume);

        BertTokenizer tokenizer = new BertTokenizer(Vocab.read(vocabFile));
        int embeds = source.config() != null ? source.config().vocabSize() : ModelDir.open(source.modelDir()).config().vocabSize();
        if (tokenizer.vocab().size() > embeds) {
            throw new InvalidInputException(vocabFile + ": has " + tokenizer.vocab().size() + " tokens but the model embeds "
                    + embeds + " (vocab_size); ids past that have no embedding");
        }
        GlueDataset train = GlueDataset.load(dataDir, task, "train", tokenizer, cfg.maxSeqLength(), cfg.maxTrainExamples(),
                cfg.doubleUnordered());
        if (train.size() == 0) {
            throw new InvalidInputException(GlueReader.file(dataDir, task, "train") + ": holds no training rows (only a header?)");
        }
        List<GlueDataset> devs = new ArrayList<>();
        for (var split : task.devSplits()) {
            if (Files.isRegularFile(GlueReader.file(dataDir, task, split.name()))) {
                devs.add(GlueDataset.load(dataDir, task, split.name(), tokenizer, cfg.maxSeqLength(), 0, false));
            }
        }
        BatchPlan plan = new BatchPlan(train.encodings(), cfg.batchSize(), cfg.seed(), cfg.lengthBucketing());
        long total = cfg.maxSteps() > 0 ? cfg.maxSteps() : (long) Math.ceil(cfg.epochs() * plan.stepsPerEpoch());
        int evalEvery = cfg.evalEvery() > 0 ? cfg.evalEvery() : plan.stepsPerEpoch();
        LrSchedule schedule = new LrSchedule(cfg.learningRate(), Math.round(cfg.warmupFraction() * total), total);

        try (TaskModel model = openModel(task)) {
            ConvBertConfig modelConfig = model.config();
            List<ParamGroup> groups = new ArrayList<>();
            for (var n : ConvBertWeights.named(model.block()).values()) {
                groups.add(new ParamGroup(n.name(), n.parameter(), ParamGroup.decays(n.name()),
                        ParamGroup.layerScale(n.name(), modelConfig.numHiddenLayers(), cfg.layerDecay())));
            }
            AdamW optimizer = AdamW.original(cfg.weightDecay());
            ObjectNode run = runIdentity(modelConfig, train, vocabFile);
            ObjectNode state = JSON.createObjectNode();
            state.set("run", run);
            state.put("best_value", Double.NEGATIVE_INFINITY);
            state.put("best_step", -1);
            state.putArray("evaluations");
            state.put("elapsed_seconds", 0.0);
            long start = 0;
            if (loaded.isPresent()) {
                Checkpoints.Loaded ck = loaded.get();
                state = Checkpoints.restore(ck, run, groups, optimizer, model.manager());
                start = ck.step();
            } else {
                Files.createDirectories(out);
                modelConfig.write(out.resolve(ModelDir.CONFIG));
                byte[] vocabBytes = Files.readAllBytes(vocabFile);
                AtomicFiles.write(out.resolve(ModelDir.VOCAB), o -> o.write(vocabBytes));
            }
            groups.forEach(g -> g.parameter().getArray().setRequiresGradient(true));

            try (TrainingLog log = new TrainingLog(out, "finetune " + task.id(), start, total)) {
                log.info(fmt("%s %s: %d train examples, %d steps of %d (%.1f epochs), warm-up %d, %s, %d parameters",
                        start > 0 ? "resuming" : "fine-tuning", task.glueName(), train.size(), total, cfg.batchSize(),
                        (double) total / plan.stepsPerEpoch(), schedule.warmupSteps(),
                        modelConfig.paddingInvariant() ? "padding-invariant" : "HF padding semantics",
                        modelConfig.parameterCount()));
                log.info("hyper-parameters: " + cfg.toJson());
                double elapsedBefore = state.get("elapsed_seconds").asDouble();
                long t0 = System.nanoTime();
                long examples = 0;
                for (long step = start; step < total; step++) {
                    double lr = schedule.lr(step);
                    Engine.getInstance().setRandomSeed((int) (cfg.seed() * 1_000_003L + step));   // dropout = f(seed, step)
                    int[] batch = plan.batch(step);
                    double loss = forwardBackward(model, train, batch);
                    if (!Double.isFinite(loss)) {
                        throw new dev.convbert.core.cli.CommandFailedException("training diverged: loss became " + loss + " at step "
                                + step + "; lower --lr, then resume from the last checkpoint (--resume) or start again");
                    }
                    List<NDArray> grads = gradients(groups);
                    double norm = GradientClipping.globalNorm(grads, cfg.maxGradNorm());
                    if (Double.isFinite(norm)) {
                        optimizer.step(groups, grads, lr);
                    } else {
                        // as mixed-precision trainers do: an overflowed gradient is dropped, not applied
                        log.info(fmt("step %d: gradient norm is %s (non-finite in %s); update skipped", step + 1, norm,
                                nonFinite(groups, grads)));
                    }
                    for (NDArray g : grads) {
                        GradientClipping.zero(g, norm);
                        g.close();
                    }
                    examples += batch.length;
                    double secs = (System.nanoTime() - t0) / 1e9;
                    ObjectNode rec = JSON.createObjectNode().put("step", step + 1).put("loss", loss).put("lr", lr)
                            .put("grad_norm", norm).put("examples_per_s", examples / Math.max(secs, 1e-9))
                            .put("elapsed_s", elapsedBefore + secs)
                            .put("native_arrays", model.manager().getManagedArrays().size());   // must not grow
                    log.step(rec, fmt("loss %.4f lr %.2e %.0f ex/s", loss, lr, examples / Math.max(secs, 1e-9)),
                            (step + 1) % 50 == 0);
                    boolean last = step + 1 == total;
                    if (last || (step + 1) % evalEvery == 0) {
                        evaluate(model, devs, step + 1, state, log);
                    }
                    state.put("elapsed_seconds", elapsedBefore + (System.nanoTime() - t0) / 1e9);
                    state.put("updates", optimizer.updates());
                    if (last || (cfg.saveEvery() > 0 && (step + 1) % cfg.saveEvery() == 0)) {
                        checkpoints.save(step + 1, model.weights(), optimizer.state(), state);
                    }
                }
                ObjectNode metrics = trainingMetrics(state, total, modelConfig, train);
                AtomicFiles.writeString(out.resolve(ModelDir.TRAINING_METRICS), JSON.writeValueAsString(metrics));
                log.info(fmt("done: best %s %s = %.4f at step %d; model in %s; %.0f s of training", task.glueName(),
                        task.metric().key(), state.get("best_value").asDouble(), state.get("best_step").asLong(), out,
                        state.get("elapsed_seconds").asDouble()));
                return metrics;
            }
        }
    }

    private TaskModel openModel(GlueTask task) {
        if (source.modelDir() != null) {
            TaskModel m = TaskModel.fromPretrained(source.modelDir(), task.labels(), device, cfg.seed());
            return m;
        }
        return TaskModel.initialise(source.config().withLabels(task.labels()), device, cfg.seed());
    }

    /** One forward/backward pass; gradients accumulate on the parameters. */
    private static double forwardBackward(TaskModel model, GlueDataset data, int[] batch) {
        List<Encoding> rows = new ArrayList<>(batch.length);
        float[] labels = new float[batch.length];
        for (int r = 0; r < batch.length; r++) {
            rows.add(data.encodings().get(batch[r]));
            labels[r] = (float) data.labels()[batch[r]];
        }
        PaddedBatch padded = PaddedBatch.of(rows);
        try (NDManager step = model.manager().newSubManager()) {
            NDList in = new NDList(TaskModel.matrix(step, padded.inputIds()), TaskModel.matrix(step, padded.tokenTypeIds()),
                    TaskModel.matrix(step, padded.attentionMask()));
            NDArray y = step.create(labels);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.block().run(model.parameterStore(), in, true, null).get(0);
                NDArray loss = model.config().isRegression()
                        ? logits.reshape(batch.length).sub(y).square().mean()
                        : logits.logSoftmax(1).mul(y.toType(ai.djl.ndarray.types.DataType.INT64, false)
                                .oneHot(model.config().numLabels())).sum(new int[]{1}).neg().mean();
                gc.backward(loss);
                return loss.getFloat();
            }
        }
    }

    /**
     * Which gradients are non-finite: how many parameters, and the affected one nearest the loss (groups are in forward
     * order, so the last affected is where the NaN entered the backward pass; everything before it inherits it).
     */
    private static String nonFinite(List<ParamGroup> groups, List<NDArray> grads) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < grads.size(); i++) {
            for (float f : grads.get(i).toFloatArray()) {
                if (!Float.isFinite(f)) {
                    names.add(groups.get(i).name());
                    break;
                }
            }
        }
        return names.isEmpty() ? "no parameter" : names.size() + " of " + groups.size() + " parameters; nearest the loss: "
                + names.get(names.size() - 1);
    }

    private static List<NDArray> gradients(List<ParamGroup> groups) {
        List<NDArray> grads = new ArrayList<>(groups.size());
        for (ParamGroup g : groups) {
            grads.add(g.parameter().getArray().getGradient());
        }
        return grads;
    }

    private void evaluate(TaskModel model, List<GlueDataset> devs, long step, ObjectNode state, TrainingLog log)
            throws IOException {
        ArrayNode evals = (ArrayNode) state.get("evaluations");
        double main = Double.NaN;
        for (GlueDataset dev : devs) {
            float[][] logits = BatchRunner.logits(model, dev.encodings(), 64, null);
            GlueScore s = GlueScore.of(dev.task(), dev.split(), BatchRunner.predictions(dev.task(), logits), dev.labels());
            ObjectNode e = evals.addObject().put("step", step).put("split", dev.split());
            e.set("metrics", JSON.valueToTree(new java.util.TreeMap<>(s.metrics())));
            log.record(JSON.createObjectNode().put("step", step).put("eval", dev.split())
                    .set("metrics", JSON.valueToTree(new java.util.TreeMap<>(s.metrics()))));
            log.info(fmt("step %d: %s", step, s));
            if (Double.isNaN(main)) {
                main = s.main();   // MNLI: matched decides, as in the original
            }
        }
        if (main > state.get("best_value").asDouble()) {
            state.put("best_value", main);
            state.put("best_step", step);
            ModelDir.write(out, model.config(), model.weights(), null, Map.of("format", "pt"));
            log.info(fmt("step %d: new best %s %.4f, saved to %s", step, cfg.task().metric().key(), main, out));
        }
    }

    /** What must not change across a resume: hyper-parameters, model config and training data. */
    private ObjectNode runIdentity(ConvBertConfig modelConfig, GlueDataset train, Path vocabFile) throws IOException {
        ObjectNode run = cfg.toJson();
        // a resume with another vocabulary would train on other ids; with another dev set, mix two in one history
        run.put("vocab_sha256", Hashing.sha256(vocabFile));
        for (var split : cfg.task().devSplits()) {
            Path dev = GlueReader.file(dataDir, cfg.task(), split.name());
            if (Files.isRegularFile(dev)) {
                run.put(split.name() + "_sha256", Hashing.sha256(dev));
            }
        }
        run.put("model_config", modelConfig.toJson().toString());
        run.put("init", source.modelDir() != null ? source.modelDir().toAbsolutePath().normalize().toString() : "random");
        run.put("train_sha256", Hashing.sha256(GlueReader.file(dataDir, cfg.task(), "train")));
        run.put("train_examples", train.size());
        return run;
    }

    private ObjectNode trainingMetrics(ObjectNode state, long total, ConvBertConfig modelConfig, GlueDataset train)
            throws IOException {
        GlueTask task = cfg.task();
        ObjectNode m = JSON.createObjectNode();
        m.put("task", task.id());
        m.put("metric", task.metric().key());
        m.put("dev_split", task.devSplits().get(0).name());
        ObjectNode best = m.putObject("best");
        best.put("step", state.get("best_step").asLong());
        best.put("value", state.get("best_value").asDouble());
        for (JsonNode e : state.get("evaluations")) {
            if (e.get("step").asLong() == state.get("best_step").asLong()) {
                best.set(e.get("split").asText(), e.get("metrics"));
            }
        }
        m.set("evaluations", state.get("evaluations"));
        m.put("steps", total);
        m.put("train_examples", train.size());
        m.put("wall_time_seconds", state.get("elapsed_seconds").asDouble());
        m.set("hyperparameters", cfg.toJson());
        m.put("init", source.modelDir() != null ? source.modelDir().toString() : "random (seed " + cfg.seed() + ")");
        m.put("parameters", modelConfig.parameterCount());
        ObjectNode data = m.putObject("data_sha256");
        for (var split : task.splits()) {
            Path f = GlueReader.file(dataDir, task, split.name());
            if (Files.isRegularFile(f)) {
                data.put(task.dirName() + "/" + f.getFileName(), Hashing.sha256(f));
            }
        }
        return m;
    }
}
