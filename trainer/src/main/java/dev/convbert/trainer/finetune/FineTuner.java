package dev.convbert.trainer.finetune;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.io.OutputLock;
import dev.convbert.core.metrics.GlueScore;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.trainer.loop.BatchPlan;
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.Seeds;
import dev.convbert.trainer.loop.TrainState;
import dev.convbert.trainer.loop.TrainingLoop;
import dev.convbert.trainer.model.TaskModel;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.Precision;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.convbert.trainer.log.TrainingLog.fmt;

/**
 * GLUE fine-tuning on the shared {@link TrainingLoop}: this class checks and loads the data, builds the model and
 * optimiser groups (layer-wise lr decay), and supplies the step (a planned batch, cross-entropy or squared error) and
 * the dev evaluation that picks the best checkpoint. Every batch and dropout mask is a function of (seed, step) and the
 * optimiser state is ours, so a run resumed from its last checkpoint ends with exactly the weights of an uninterrupted
 * run.
 *
 * <p>The output directory is a model directory (HF layout) holding the best dev-set weights, plus
 * {@code training_metrics.json}, {@code train.log}, {@code metrics.jsonl} and the resume checkpoint.
 */
public final class FineTuner {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Where the run starts: a pre-trained/fine-tuned model directory, or a config for random initialisation. */
    public record Source(ModelDir model, ConvBertConfig config, Path vocab) {}

    private final FineTuneConfig cfg;
    private final Path dataDir;
    private final Path out;
    private final Source source;
    private final Device device;

    private final RunControl control;

    public FineTuner(FineTuneConfig cfg, Path dataDir, Path out, Source source, Device device) {
        this(cfg, dataDir, out, source, device, RunControl.defaults());
    }

    public FineTuner(FineTuneConfig cfg, Path dataDir, Path out, Source source, Device device, RunControl control) {
        this.control = control;
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
                : source.model() != null ? source.model().vocabFile() : null;
        if (vocabFile == null) {
            throw new InvalidInputException("no vocabulary: pass --vocab FILE with --config");
        }
        if (source.model() != null && source.vocab() != null) {
            String expected = source.model().vocabSha256().orElse(null);
            if (expected != null && !expected.equals(Hashing.sha256(vocabFile))) {
                throw new InvalidInputException(vocabFile + ": is not the vocabulary of " + source.model().dir()
                        + " (sha256 " + expected.substring(0, 12) + "…); its weights are indexed by that one. Drop --vocab");
            }
        }
        for (String split : List.of("train", task.devSplits().get(0).name())) {
            if (!Files.isRegularFile(GlueReader.file(dataDir, task, split))) {
                throw new InvalidInputException(GlueReader.file(dataDir, task, split) + ": missing; fine-tuning "
                        + task.glueName() + " needs its train and dev splits in the original GLUE layout");
            }
        }
        try (OutputLock lock = OutputLock.acquire(out, "finetune " + task.id())) {
            return train(resume, vocabFile);
        }
    }

    private ObjectNode train(boolean resume, Path vocabFile) throws IOException {
        GlueTask task = cfg.task();
        Checkpoints checkpoints = control.checkpoints(out);
        var loaded = checkpoints.open(resume);

        BertTokenizer tokenizer = new BertTokenizer(Vocab.read(vocabFile));
        int embeds = source.config() != null ? source.config().vocabSize() : source.model().config().vocabSize();
        if (tokenizer.vocab().size() > embeds) {
            throw new InvalidInputException(vocabFile + ": has " + tokenizer.vocab().size() + " tokens but the model embeds "
                    + embeds + " (vocab_size); ids past that have no embedding");
        }
        GlueDataset train = GlueDataset.load(dataDir, task, "train", tokenizer, cfg.maxSeqLength(), cfg.maxTrainExamples(),
                cfg.doubleUnordered());
        List<GlueDataset> devs = new ArrayList<>();
        for (var split : task.devSplits()) {
            if (Files.isRegularFile(GlueReader.file(dataDir, task, split.name()))) {
                devs.add(GlueDataset.load(dataDir, task, split.name(), tokenizer, cfg.maxSeqLength(), 0, false));
            }
        }
        Seeds seeds = new Seeds(cfg.seed());
        BatchPlan plan = new BatchPlan(train.encodings(), cfg.batchSize(), seeds, cfg.lengthBucketing());
        long total = cfg.maxSteps() > 0 ? cfg.maxSteps() : (long) Math.ceil(cfg.epochs() * plan.stepsPerEpoch());
        int evalEvery = cfg.evalEvery() > 0 ? cfg.evalEvery() : plan.stepsPerEpoch();
        LrSchedule schedule = new LrSchedule(cfg.learningRate(), Math.round(cfg.warmupFraction() * total), total);

        try (TaskModel model = openModel(task)) {
            ConvBertConfig modelConfig = model.config();
            List<ParamGroup> groups = new ArrayList<>();
            for (var n : model.namedParameters().values()) {
                groups.add(new ParamGroup(n.name(), n.parameter(), ParamGroup.decays(n.name()),
                        ParamGroup.layerScale(n.name(), modelConfig.numHiddenLayers(), cfg.layerDecay())));
            }
            AdamW optimizer = AdamW.original(cfg.weightDecay());
            ObjectNode run = runIdentity(modelConfig, train, vocabFile);
            TrainState state = TrainState.start(run, cfg.lossScale());
            if (loaded.isPresent()) {
                state = TrainState.fromJson(Checkpoints.restore(loaded.get(), run, groups, optimizer));
            } else {
                Files.createDirectories(out);
                modelConfig.write(out.resolve(ModelDir.CONFIG));
                byte[] vocabBytes = Files.readAllBytes(vocabFile);
                AtomicFiles.write(out.resolve(ModelDir.VOCAB), o -> o.write(vocabBytes));
            }
            if (cfg.precision() == Precision.FP16) {
                model.trainInHalfPrecision();       // from the masters as they are now: restored ones on a resume
            }
            try (TrainingLog log = new TrainingLog(out, "finetune " + task.id(), state.step(), total)) {
                log.info(fmt("%s %s: %d train examples, %d steps of %d (%.1f epochs), warm-up %d, %s, %s head, %d parameters, %s",
                        state.step() > 0 ? "resuming" : "fine-tuning", task.glueName(), train.size(), total, cfg.batchSize(),
                        (double) total / plan.stepsPerEpoch(), schedule.warmupSteps(),
                        modelConfig.paddingInvariant() ? "padding-invariant" : "HF padding semantics",
                        modelConfig.classifierHead().id(), modelConfig.parameterCount(), cfg.precision() == Precision.FP16
                                ? fmt("fp16 mixed precision (fp32 masters, loss scale %.0f)", state.lossScale().scale()) : "fp32"));
                log.info("hyper-parameters: " + cfg.toJson());
                loaded.ifPresent(ck -> TrainingLoop.resumingFrom(ck, log));
                var loop = new TrainingLoop(new TrainingLoop.Schedule(total, total, evalEvery, cfg.saveEvery(), cfg.maxGradNorm()),
                        schedule, seeds, groups, optimizer, checkpoints, log);
                state = loop.run(new GlueTraining(model, groups, train, devs, plan, log), state, control.stop());
                ObjectNode metrics = trainingMetrics(state, total, modelConfig, train);
                AtomicFiles.writeString(out.resolve(ModelDir.TRAINING_METRICS), JSON.writeValueAsString(metrics));
                log.info(fmt("done: best %s %s = %.4f at step %d; model in %s; %.0f s of training", task.glueName(),
                        task.metric().key(), state.bestValue(), state.bestStep(), out, state.elapsedSeconds()));
                return metrics;
            }
        }
    }

    /** A GLUE task as the loop's {@link TrainingLoop.Task}: batches from the plan, cross-entropy or MSE, dev scoring. */
    private final class GlueTraining implements TrainingLoop.Task {
        private final TaskModel model;
        private final List<ParamGroup> groups;
        private final GlueDataset train;
        private final List<GlueDataset> devs;
        private final BatchPlan plan;
        private final TrainingLog log;

        GlueTraining(TaskModel model, List<ParamGroup> groups, GlueDataset train, List<GlueDataset> devs, BatchPlan plan,
                     TrainingLog log) {
            this.model = model;
            this.groups = groups;
            this.train = train;
            this.devs = devs;
            this.plan = plan;
            this.log = log;
        }

        @Override
        public TrainingLoop.StepResult forwardBackward(long step, double lossScale) {
            int[] batch = plan.batch(step);
            List<Encoding> rows = new ArrayList<>(batch.length);
            float[] labels = new float[batch.length];
            long tokens = 0;
            for (int r = 0; r < batch.length; r++) {
                rows.add(train.encodings().get(batch[r]));
                labels[r] = (float) train.labels()[batch[r]];
                tokens += rows.get(r).length();
            }
            double loss = model.forwardBackward(PaddedBatch.of(rows), labels, lossScale);
            return new TrainingLoop.StepResult(loss, batch.length, tokens,
                    Map.of("native_arrays", (double) model.nativeArrays()),   // must not grow
                    fmt("loss %.4f", loss));
        }

        @Override
        public List<NDArray> gradients(double lossScale) {
            return model.gradients(lossScale);      // in namedParameters() order, as the groups were made
        }

        @Override
        public void updated() {
            model.refreshHalfCopy();
        }

        @Override
        public void cleared(double norm) {
            model.clearHalfGradients(norm);
        }

        @Override
        public List<SafeTensor> weights() {
            return model.weights();
        }

        @Override
        public TrainingLoop.Evaluation evaluate(long step) {
            List<TrainState.Evaluation> splits = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            double main = Double.NaN;
            for (GlueDataset dev : devs) {
                float[][] logits = BatchRunner.logits(model, dev.encodings(), 64, null);
                GlueScore s = GlueScore.of(dev.task(), dev.split(), BatchRunner.predictions(dev.task(), logits), dev.labels());
                splits.add(new TrainState.Evaluation(step, dev.split(), s.metrics()));
                lines.add(s.toString());
                if (Double.isNaN(main)) {
                    main = s.main();   // MNLI: matched decides, as in the original
                }
            }
            return new TrainingLoop.Evaluation(splits, main, lines);
        }

        @Override
        public void best(long step, double value) {
            model.save(out, null);
            log.info(fmt("step %d: new best %s %.4f, saved to %s", step, cfg.task().metric().key(), value, out));
        }
    }

    private TaskModel openModel(GlueTask task) {
        if (source.model() != null) {
            return TaskModel.fromPretrained(source.model(), task.labelNames(), cfg.head(), device, cfg.seed());
        }
        return TaskModel.initialise(source.config().withLabels(task.labelNames()).withClassifierHead(cfg.head()), device, cfg.seed());
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
        run.put("init", source.model() != null ? source.model().dir().toAbsolutePath().normalize().toString() : "random");
        run.put("train_sha256", Hashing.sha256(GlueReader.file(dataDir, cfg.task(), "train")));
        run.put("train_examples", train.size());
        return run;
    }

    private ObjectNode trainingMetrics(TrainState state, long total, ConvBertConfig modelConfig, GlueDataset train)
            throws IOException {
        GlueTask task = cfg.task();
        ObjectNode m = JSON.createObjectNode();
        m.put("task", task.id());
        m.put("metric", task.metric().key());
        m.put("dev_split", task.devSplits().get(0).name());
        ObjectNode best = m.putObject("best");
        best.put("step", state.bestStep());
        best.put("value", state.bestValue());
        for (TrainState.Evaluation e : state.best()) {
            best.set(e.split(), JSON.valueToTree(new TreeMap<>(e.metrics())));
        }
        m.set("evaluations", state.toJson().get("evaluations"));
        m.put("steps", total);
        m.put("train_examples", train.size());
        m.put("wall_time_seconds", state.elapsedSeconds());
        m.set("hyperparameters", cfg.toJson());
        m.put("init", source.model() != null ? source.model().dir().toString() : "random (seed " + cfg.seed() + ")");
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
