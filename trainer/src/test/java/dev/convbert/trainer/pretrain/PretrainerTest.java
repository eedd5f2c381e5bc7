package dev.convbert.trainer.pretrain;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.RunInterruptedException;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.loop.RunControl;
import dev.convbert.trainer.loop.StopAfter;
import dev.convbert.trainer.model.ConvBertWeights;
import dev.convbert.trainer.model.DjlPredictorProvider;
import dev.convbert.trainer.model.ElectraPretraining;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PretrainerTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final Path VOCAB = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");
    @TempDir
    static Path dir;
    static Path data;

    static final List<Device> CPU = List.of(Device.cpu());

    static ConvBertConfig tiny() {
        return ConvBertConfig.tiny().toBuilder().numGroups(1).maxPositionEmbeddings(64).hiddenDropoutProb(0)
                .attentionProbsDropoutProb(0).build();
    }

    static PretrainConfig config(long steps) {
        return new PretrainConfig(2e-3, 8, steps, 2, 0.01, 1.0, 64, 7, 5, 0.25, 50.0, 1.0,
                dev.convbert.trainer.optim.Precision.FP32, dev.convbert.trainer.optim.LossScale.INITIAL);
    }

    @BeforeAll
    static void buildData() throws Exception {
        data = dir.resolve("data");
        new DataBuilder(new BertTokenizer(Vocab.read(VOCAB)), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), data);
    }

    @Test
    void generatorAndDiscriminatorShareEmbeddings() {
        ConvBertConfig d = tiny();
        ElectraPretraining m = new ElectraPretraining(d, config(1).generatorConfig(d));
        var named = ConvBertWeights.named(m);
        for (String p : List.of("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight")) {
            assertSame(named.get("discriminator." + p).parameter(), named.get("generator." + p).parameter(), p);
        }
        assertTrue(named.containsKey("generator.embeddings_project.weight"), "the generator projects to its own width");
        assertEquals(8, config(1).generatorConfig(d).hiddenSize());
        assertTrue(ConvBertWeights.unique(m).size() < named.size());
    }

    @Test
    void lossFallsAndTheDiscriminatorIsAModelDirectory() throws Exception {
        Path out = dir.resolve("run");
        new Pretrainer(config(40), tiny(), data, VOCAB, out, CPU).run(false);
        List<Double> mlm = new ArrayList<>();
        List<Double> disc = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            var n = new ObjectMapper().readTree(line);
            if (n.has("mlm_loss")) {
                mlm.add(n.get("mlm_loss").asDouble());
                disc.add(n.get("disc_loss").asDouble());
            }
        }
        assertEquals(40, mlm.size());
        assertTrue(mean(mlm.subList(30, 40)) < mean(mlm.subList(0, 10)) - 0.2, "MLM loss falls: " + mlm);
        assertTrue(mean(disc.subList(30, 40)) < mean(disc.subList(0, 10)), "discriminator loss falls: " + disc);
        ModelDir md = ModelDir.open(out.resolve("discriminator"));
        assertEquals(32, md.config().hiddenSize());
        assertTrue(md.weights().tensors().containsKey("encoder.layer.1.attention.self.conv_kernel_layer.weight"));
        assertTrue(md.hasVocab());
    }

    @Test
    void resumeIsExact() throws Exception {
        Path a = dir.resolve("a");
        new Pretrainer(config(10), tiny(), data, VOCAB, a, CPU).run(false);
        Path partial = dir.resolve("b");
        new Pretrainer(config(10), tiny(), data, VOCAB, partial, CPU).run(false, 5);   // interrupted at 5
        new Pretrainer(config(10), tiny(), data, VOCAB, partial, CPU).run(true);
        assertSameWeights(a.resolve("checkpoint-00000010"), partial.resolve("checkpoint-00000010"), 0);
    }

    /**
     * SIGTERM (here its {@link StopRequest}) during data-parallel pre-training: the step in flight ends on every replica,
     * a checkpoint of it is written, and the resumed run ends with the weights of an uninterrupted one.
     */
    @Test
    void anInterruptedDataParallelRunResumesExactly() throws Exception {
        List<Device> two = List.of(Device.cpu(), Device.cpu());
        Path a = dir.resolve("dp-whole");
        new Pretrainer(config(8), tiny(), data, VOCAB, a, two).run(false);
        Path b = dir.resolve("dp-stopped");
        var stopped = assertThrows(RunInterruptedException.class, () -> new Pretrainer(config(8), tiny(), data, VOCAB, b, two,
                RunControl.defaults().withStop(new StopAfter(3))).run(false));
        assertEquals(143, stopped.exitCode());
        assertTrue(stopped.getMessage().contains("interrupted at step 3 by SIGTERM; checkpoint-00000003 written"),
                stopped.getMessage());
        new Pretrainer(config(8), tiny(), data, VOCAB, b, two).run(true);
        assertSameWeights(a.resolve("checkpoint-00000008"), b.resolve("checkpoint-00000008"), 0);
    }

    /** Data rebuilt in place from an edited corpus keeps its example count; a resume must still refuse it. */
    @Test
    void aResumeRefusesDataRebuiltInPlace() throws Exception {
        Path corpus = dir.resolve("corpus-copy");
        dev.convbert.core.io.AtomicFiles.copyTree(TESTDATA.resolve("corpus"), corpus);
        Path rebuilt = dir.resolve("rebuilt");
        DataBuilder builder = new DataBuilder(new BertTokenizer(Vocab.read(VOCAB)), 64, 1, true, 1,
                DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES);
        long before = builder.build(corpus, rebuilt).get("examples").asLong();
        Path out = dir.resolve("on-rebuilt");
        new Pretrainer(config(6), tiny(), rebuilt, VOCAB, out, CPU).run(false, 3);

        Path doc = corpus.resolve("books/tiny-gutenberg.txt");
        Files.writeString(doc, Files.readString(doc).replace("ran quietly", "ran slowly"));
        assertEquals(before, builder.build(corpus, rebuilt).get("examples").asLong(), "the same number of examples");
        var refused = assertThrows(InvalidInputException.class,
                () -> new Pretrainer(config(6), tiny(), rebuilt, VOCAB, out, CPU).run(true));
        assertTrue(refused.getMessage().contains("field \"data_sha256\""), refused.getMessage());
    }

    /**
     * Two replicas (both on the CPU here; on GPUs the same code with one device each) must train exactly as one device
     * on the whole batch: slices' losses divided by the whole batch's counts, gradients summed. Temperature 0 (the
     * generator's argmax) so both runs corrupt the same tokens; dropout is 0 in the tiny config.
     */
    @Test
    void dataParallelReplicasTrainAsOneDeviceOnTheWholeBatch() throws Exception {
        Path one = dir.resolve("dp1");
        Path two = dir.resolve("dp2");
        PretrainConfig argmax = config(3).withTemperature(0);
        new Pretrainer(argmax, tiny(), data, VOCAB, one, CPU).run(false);
        new Pretrainer(argmax, tiny(), data, VOCAB, two, List.of(Device.cpu(), Device.cpu())).run(false);
        List<String> a = Files.readAllLines(one.resolve("metrics.jsonl"));
        List<String> b = Files.readAllLines(two.resolve("metrics.jsonl"));
        var json = new ObjectMapper();
        int compared = 0;
        for (int i = 0; i < a.size(); i++) {
            var x = json.readTree(a.get(i));
            var y = json.readTree(b.get(i));
            if (!x.has("grad_norm")) {
                continue;
            }
            for (String f : List.of("loss", "mlm_loss", "disc_loss", "grad_norm", "mlm_accuracy", "disc_accuracy")) {
                assertEquals(x.get(f).asDouble(), y.get(f).asDouble(), 1e-4 * Math.abs(x.get(f).asDouble()) + 1e-6,
                        "step " + x.get("step") + " " + f);
            }
            compared++;
        }
        assertEquals(3, compared);
        assertSameWeights(one.resolve("checkpoint-00000003"), two.resolve("checkpoint-00000003"), 1e-4f);
    }

    /** fp16 from a loss scale of 2^10: the pre-training loss (~45: MLM + 50 × discriminator) times 2^16 overflows fp16. */
    static PretrainConfig fp16(PretrainConfig c) {
        return c.withPrecision(dev.convbert.trainer.optim.Precision.FP16, 1024);
    }

    /**
     * Pre-training in fp16 (fp32 masters, loss scale 2^10) against fp32 on the same data, argmax sampling so both corrupt
     * the same tokens: every step's losses finite and within 1 % (fp16 keeps 11 significant bits; the MLM loss of a
     * 30,522-way softmax is ~10), no step skipped; and two data-parallel fp16 replicas train as one device within the
     * same bound (each slice's fp16 gradients are rounded on their own before the fp32 sum: not bit-identical, as two
     * fp32 replicas are). A stop at step 3 and a resume end bit-identical to the uninterrupted fp16 run.
     */
    @Test
    void fp16PretrainingTracksFp32AndItsReplicasAndResumes() throws Exception {
        PretrainConfig argmax = config(6).withTemperature(0);
        Path fp32 = dir.resolve("p32");
        Path half = dir.resolve("p16");
        Path halfTwo = dir.resolve("p16x2");
        new Pretrainer(argmax, tiny(), data, VOCAB, fp32, CPU).run(false);
        new Pretrainer(fp16(argmax), tiny(), data, VOCAB, half, CPU).run(false);
        new Pretrainer(fp16(argmax), tiny(), data, VOCAB, halfTwo, List.of(Device.cpu(), Device.cpu())).run(false);
        var json = new ObjectMapper();
        List<String> a = Files.readAllLines(fp32.resolve("metrics.jsonl"));
        List<String> b = Files.readAllLines(half.resolve("metrics.jsonl"));
        List<String> c = Files.readAllLines(halfTwo.resolve("metrics.jsonl"));
        double worst = 0;
        int compared = 0;
        for (int i = 0; i < a.size(); i++) {
            var x = json.readTree(a.get(i));
            if (!x.has("grad_norm")) {
                continue;
            }
            var y = json.readTree(b.get(i));
            var z = json.readTree(c.get(i));
            assertEquals(1024.0, y.get("loss_scale").asDouble());
            assertEquals(0, y.get("skipped_steps").asLong());
            for (String f : List.of("mlm_loss", "disc_loss")) {
                assertTrue(Double.isFinite(y.get(f).asDouble()), f);
                double scale = Math.abs(x.get(f).asDouble());
                worst = Math.max(worst, Math.abs(x.get(f).asDouble() - y.get(f).asDouble()) / scale);
                assertEquals(x.get(f).asDouble(), y.get(f).asDouble(), 0.01 * scale, "fp16 vs fp32, step " + x.get("step") + " " + f);
                assertEquals(y.get(f).asDouble(), z.get(f).asDouble(), 0.01 * scale, "two fp16 replicas, step " + x.get("step") + " " + f);
            }
            compared++;
        }
        System.out.printf("pre-training fp16 vs fp32, 6 steps: worst relative loss difference %.2e%n", worst);
        assertEquals(6, compared);

        Path stopped = dir.resolve("p16-stopped");
        new Pretrainer(fp16(argmax), tiny(), data, VOCAB, stopped, CPU).run(false, 3);
        new Pretrainer(fp16(argmax), tiny(), data, VOCAB, stopped, CPU).run(true);
        assertSameWeights(half.resolve("checkpoint-00000006"), stopped.resolve("checkpoint-00000006"), 0);
        assertTrue(ModelDir.open(half.resolve("discriminator")).weights().tensors().values().stream()
                .allMatch(t -> t.dtype() == dev.convbert.core.safetensors.DType.F32), "the discriminator is saved in fp32");

        // from GradScaler's 2^16 the first steps overflow: each is skipped and halves the scale until it fits
        Path fromDefault = dir.resolve("p16-default");
        new Pretrainer(argmax.withPrecision(dev.convbert.trainer.optim.Precision.FP16, 65536), tiny(), data, VOCAB, fromDefault, CPU)
                .run(false);
        List<Double> scales = new ArrayList<>();
        for (String line : Files.readAllLines(fromDefault.resolve("metrics.jsonl"))) {
            var n = json.readTree(line);
            if (n.has("loss_scale")) {
                scales.add(n.get("loss_scale").asDouble());
                assertTrue(Double.isFinite(n.get("loss").asDouble()));
            }
        }
        System.out.println("pre-training fp16 from 2^16: loss scale per step " + scales);
        assertEquals(32768.0, scales.get(1), "the first step overflowed and halved the scale");
    }

    /**
     * The discriminator's input is corrupted on the device from flat indices: a position drawn twice (Masking draws
     * with replacement) is replaced once, by its last slot, as the host-side loop it replaced did; unweighted slots
     * replace nothing.
     */
    @Test
    void aPositionDrawnTwiceIsReplacedByItsLastSlot() {
        Masking.Masked m = new Masking.Masked(new long[][]{{}, {}}, new long[][]{{3, 5, 3, 0}, {1, 1, 0, 0}},
                new float[][]{{1, 1, 1, 0}, {1, 1, 0, 0}}, new long[][]{{0, 0, 0, 0}, {0, 0, 0, 0}});
        long[][] replaced = ElectraStep.replacedSlots(m, 10);
        assertArrayEquals(new long[]{3, 5, 11}, replaced[0], "flat positions in [B·L]");
        assertArrayEquals(new long[]{2, 1, 5}, replaced[1], "the last slot drawn for each position, flat in [B·N]");
    }

    /** Two checkpoints hold the same tensors: bit for bit when {@code relative} is 0, else within 1e-5 + relative·|x|. */
    private static void assertSameWeights(Path a, Path b, float relative) throws Exception {
        Map<String, SafeTensor> x = Safetensors.read(a.resolve(Checkpoints.MODEL)).tensors();
        Map<String, SafeTensor> y = Safetensors.read(b.resolve(Checkpoints.MODEL)).tensors();
        assertEquals(x.keySet(), y.keySet());
        for (String k : x.keySet()) {
            float[] fx = x.get(k).toFloats();
            float[] fy = y.get(k).toFloats();
            for (int i = 0; i < fx.length; i++) {
                if (relative == 0) {
                    assertEquals(Float.floatToIntBits(fx[i]), Float.floatToIntBits(fy[i]), k + "[" + i + "]");
                } else {
                    assertEquals(fx[i], fy[i], 1e-5f + relative * Math.abs(fx[i]), k + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void deviceListsAreCheckedBeforeTraining() {
        assertEquals(CPU, DjlPredictorProvider.devices("cpu"));
        var bad = assertThrows(InvalidInputException.class, () -> DjlPredictorProvider.devices("tpu"));
        assertTrue(bad.getMessage().contains("gpu:N"), bad.getMessage());
        if (ai.djl.engine.Engine.getInstance().getGpuCount() == 0) {
            var none = assertThrows(InvalidInputException.class, () -> DjlPredictorProvider.devices("gpu"));
            assertTrue(none.getMessage().contains("--device cpu"), none.getMessage());
        }
        var tooMany = assertThrows(InvalidInputException.class, () -> new Pretrainer(
                new PretrainConfig(2e-3, 1, 1, 0, 0.01, 1.0, 64, 7, 5, 0.25, 50.0, 1.0,
                        dev.convbert.trainer.optim.Precision.FP32, dev.convbert.trainer.optim.LossScale.INITIAL), tiny(), data, VOCAB, dir.resolve("x"),
                List.of(Device.cpu(), Device.cpu())));
        assertTrue(tooMany.getMessage().contains("--batch-size 1"), tooMany.getMessage());
    }

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
