package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.modeldir.ModelDirException;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.trainer.ReferenceSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightsTest {

    @Test
    void blockTreeYieldsExactlyTheHfNames() throws IOException {
        for (String set : ReferenceSet.NAMES) {
            ReferenceSet ref = ReferenceSet.load(set);
            ModelDir md = ModelDir.open(ref.dir());
            var names = ConvBertWeights.named(new ConvBertForSequenceClassification(md.config())).keySet();
            assertEquals(md.weights().tensors().keySet(), names, set);
        }
        var names = ConvBertWeights.named(new ConvBertForSequenceClassification(ConvBertConfig.mediumSmall())).keySet();
        assertTrue(names.contains("convbert.encoder.layer.11.attention.self.conv_kernel_layer.weight"));
        assertTrue(names.contains("convbert.encoder.layer.0.attention.self.key_conv_attn_layer.depthwise.weight"));
        assertTrue(names.contains("convbert.encoder.layer.3.output.LayerNorm.bias"));
        assertTrue(names.contains("convbert.embeddings_project.weight"));
        long params = ConvBertWeights.named(new ConvBertModel(ConvBertConfig.mediumSmall())).values().stream()
                .mapToLong(n -> n.shape().size()).sum();
        assertEquals(ConvBertConfig.mediumSmall().parameterCount(), params, "config's count = the model's tensors");
    }

    @Test
    void saveThenLoadIsExact(@TempDir Path dir) throws IOException {
        ReferenceSet ref = ReferenceSet.load("public-grouped");
        try (TaskModel m = TaskModel.load(ref.dir(), Device.cpu())) {
            m.save(dir, null);
        }
        Safetensors.Contents a = Safetensors.read(ref.dir().resolve("model.safetensors"));
        Safetensors.Contents b = Safetensors.read(dir.resolve("model.safetensors"));
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String k : a.tensors().keySet()) {
            assertArrayEquals(a.get(k).toFloats(), b.get(k).toFloats(), 0f, k);
        }
    }

    @Test
    void mismatchesAreListedInOneError(@TempDir Path dir) throws IOException {
        ReferenceSet ref = ReferenceSet.load("public-tiny");
        ModelDir md = ModelDir.open(ref.dir());
        Map<String, SafeTensor> t = new LinkedHashMap<>(md.weights().tensors());
        t.remove("convbert.encoder.layer.1.attention.self.query.bias");
        t.remove("classifier.out_proj.weight");
        t.put("convbert.encoder.layer.0.output.dense.weight", SafeTensor.ofFloats(
                "convbert.encoder.layer.0.output.dense.weight", new long[]{64, 64}, new float[64 * 64]));
        t.put("generator_lm_head.bias", SafeTensor.ofFloats("generator_lm_head.bias", new long[]{100}, new float[100]));
        ModelDir.write(dir, md.config(), new ArrayList<>(t.values()), null, Map.of());
        var ex = assertThrows(ModelDirException.class, () -> TaskModel.load(dir, Device.cpu()).close());
        String msg = ex.getMessage();
        assertTrue(msg.contains("missing (2): convbert.encoder.layer.1.attention.self.query.bias (32), classifier.out_proj.weight (3, 64)"), msg);
        assertTrue(msg.contains("unexpected (1): generator_lm_head.bias"), msg);
        assertTrue(msg.contains("wrong shape (1): convbert.encoder.layer.0.output.dense.weight: file [64, 64], model (64, 128)"), msg);
    }

    @Test
    void hubEncoderCheckpointLoadsWithHeadInitialisation(@TempDir Path dir) throws IOException {
        ReferenceSet ref = ReferenceSet.load("public-tiny");
        ModelDir md = ModelDir.open(ref.dir());
        List<SafeTensor> encoder = new ArrayList<>();
        for (SafeTensor s : md.weights().tensors().values()) {
            if (s.name().startsWith("convbert.")) {
                encoder.add(new SafeTensor(s.name().substring("convbert.".length()), s.dtype(), s.shape(), s.data()));
            }
        }
        encoder.add(SafeTensor.ofLongs("embeddings.position_ids", new long[]{1, 64}, new long[64]));
        encoder.add(SafeTensor.ofFloats("discriminator_predictions.dense.bias", new long[]{64}, new float[64]));
        ModelDir.write(dir, md.config(), encoder, null, Map.of());
        var model = new ConvBertForSequenceClassification(md.config());
        try (NDManager manager = NDManager.newBaseManager()) {
            var ex = assertThrows(ModelDirException.class, () -> ConvBertWeights.load(model, md.config(),
                    Safetensors.read(dir.resolve("model.safetensors")), dir, manager, false, 1));
            assertTrue(ex.getMessage().contains("fine-tune it with 'convbert finetune --model " + dir + " --task"), ex.getMessage());
            var report = ConvBertWeights.load(model, md.config(), Safetensors.read(dir.resolve("model.safetensors")), dir,
                    manager, true, 1);
            assertEquals(List.of("classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                    "classifier.out_proj.bias"), report.initialised());
            assertTrue(report.ignored().contains("embeddings.position_ids"));
            assertTrue(report.ignored().contains("convbert.discriminator_predictions.dense.bias"));
            float[] emb = ConvBertWeights.named(model).get("convbert.embeddings.word_embeddings.weight").parameter().getArray().toFloatArray();
            assertArrayEquals(md.weights().get("convbert.embeddings.word_embeddings.weight").toFloats(), emb, 0f);
        }
    }

    @Test
    void oneBackwardStepReachesEveryParameter() throws IOException {
        for (String set : ReferenceSet.NAMES) {
            ReferenceSet r = ReferenceSet.load(set);
            try (TaskModel m = TaskModel.load(r.dir(), Device.cpu()); NDManager step = m.manager().newSubManager()) {
                var named = ConvBertWeights.named(m.block());
                named.values().forEach(n -> n.parameter().getArray().setRequiresGradient(true));
                NDList in = new NDList(TaskModel.matrix(step, r.inputIds()), TaskModel.matrix(step, r.tokenTypeIds()),
                        TaskModel.matrix(step, r.attentionMask()));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = m.block().run(m.parameterStore(), in, true, null).get(0);
                    gc.backward(logits.square().sum());
                }
                List<String> zero = new ArrayList<>();
                for (var n : named.values()) {
                    NDArray g = n.parameter().getArray().getGradient();
                    if (g.abs().sum().getFloat() == 0f) {
                        zero.add(n.name());
                    }
                }
                assertEquals(List.of(), zero, set + ": parameters without gradient");
            }
        }
    }
}
