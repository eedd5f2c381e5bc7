package dev.convbert.core.checkpoint;

import dev.convbert.core.TestData;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conversion against the reference models: the TF and pickle fixtures hold the same weights as the reference sets'
 * {@code model.safetensors} (written by an independent implementation in HF layout), so every converted tensor must equal
 * the reference tensor bit for bit — which pins every transpose and permutation.
 */
class CheckpointConverterTest {

    @ParameterizedTest
    @CsvSource({"public-tiny/tf, public-tiny, false", "public-grouped/tf, public-grouped, false",
            "public-tiny/bin/pytorch_model.bin, public-tiny, true", "public-grouped/bin/pytorch_model.bin, public-grouped, true"})
    void convertedTensorsEqualTheReference(String fixture, String reference, boolean head) throws IOException {
        var result = CheckpointConverter.convert(Checkpoint.read(TestData.path("interop/" + fixture)), null, null);
        ConvBertConfig refConfig = ConvBertConfig.read(TestData.path("reference/" + reference + "/config.json"));
        Map<String, SafeTensor> ref = Safetensors.read(TestData.path("reference/" + reference + "/model.safetensors")).tensors();
        assertEquals(head, result.hasHead());
        assertEquals(head ? ref.size() : ref.size() - 4, result.tensors().size());
        assertFalse(result.config().paddingInvariant(), "a checkpoint from elsewhere has HF/TF padding semantics");
        for (String field : new String[]{"hiddenSize", "numHiddenLayers", "numAttentionHeads", "headRatio", "intermediateSize",
                "numGroups", "convKernelSize", "embeddingSize", "vocabSize", "maxPositionEmbeddings", "typeVocabSize"}) {
            assertEquals(get(refConfig, field), get(result.config(), field), field);
        }
        for (SafeTensor t : result.tensors()) {
            SafeTensor r = ref.get(head ? t.name() : "convbert." + t.name());
            assertTrue(r != null, "reference has no " + t.name());
            assertArrayEquals(r.shape(), t.shape(), t.name());
            assertArrayEquals(r.toFloats(), t.toFloats(), 0f, t.name());
        }
        if (!head) {
            assertEquals(Map.of("discriminator head (replaced-token detection, pre-training only)", 4,
                            "generator (pre-training only)", 3, "training counters", 1),
                    Map.copyOf(new LinkedHashMap<>(result.skipped()) {{ remove("optimizer slots (Adam)"); }}).entrySet().stream()
                            .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().size())));
        }
    }

    /** Float bytes labelled INT32 (a TF entry's dtype, a pickle's IntStorage) are not weights: refused, not cast. */
    @Test
    void aParameterThatIsNotFloatingPointIsRefusedNamingIt() throws IOException {
        for (String fixture : new String[]{"public-tiny/tf", "public-tiny/bin/pytorch_model.bin"}) {
            Checkpoint ck = Checkpoint.read(TestData.path("interop/" + fixture));
            Map<String, SafeTensor> tensors = new LinkedHashMap<>(ck.tensors());
            String victim = tensors.keySet().stream().filter(n -> n.contains("LayerNorm") || n.contains("layer_norm"))
                    .findFirst().orElseThrow();
            SafeTensor t = tensors.get(victim);
            tensors.put(victim, new SafeTensor(victim, dev.convbert.core.safetensors.DType.I32, t.shape(), t.data()));
            Checkpoint relabelled = new Checkpoint(ck.format(), ck.source(), tensors, ck.notRead());
            var e = assertThrows(CheckpointFormatException.class, () -> CheckpointConverter.convert(relabelled, null, null));
            assertTrue(e.getMessage().contains("must be floating point") && e.getMessage().contains(" is I32"), e.getMessage());
        }
    }

    @Test
    void givenConfigThatDisagreesIsRefusedNamingFieldAndVariable() throws IOException {
        Checkpoint ck = Checkpoint.read(TestData.path("interop/public-tiny/tf"));
        ConvBertConfig ref = ConvBertConfig.read(TestData.path("reference/public-tiny/config.json"));
        ConvBertConfig wrongKernel = ref.toBuilder().convKernelSize(7).build();
        var e = assertThrows(CheckpointFormatException.class, () -> CheckpointConverter.convert(ck, wrongKernel, "--config x.json"));
        assertTrue(e.getMessage().contains("conv_kernel_size is 7 in --config x.json but the checkpoint has 9")
                && e.getMessage().contains("electra/encoder/layer_0/attention/self/conv_attn_key/depthwise_kernel [9, 64, 1]"),
                e.getMessage());
        var ok = CheckpointConverter.convert(ck, ref, "config.json");
        assertEquals(53, ok.tensors().size());
    }

    @Test
    void unknownVariablesAreRefused() throws IOException {
        Checkpoint ck = Checkpoint.read(TestData.path("interop/public-tiny/tf"));
        Map<String, SafeTensor> t = new LinkedHashMap<>(ck.tensors());
        t.put("electra/encoder/layer_0/attention/self/rel_pos/kernel", SafeTensor.ofFloats("electra/encoder/layer_0/attention/self/rel_pos/kernel", new long[]{1}, new float[]{0}));
        var e = assertThrows(CheckpointFormatException.class, () -> CheckpointConverter.convert(
                new Checkpoint(ck.format(), ck.source(), t, Map.of()), null, null));
        assertTrue(e.getMessage().contains("rel_pos/kernel"), e.getMessage());
    }

    @Test
    void missingLayerTensorIsRefused() throws IOException {
        Checkpoint ck = Checkpoint.read(TestData.path("interop/public-tiny/tf"));
        Map<String, SafeTensor> t = new LinkedHashMap<>(ck.tensors());
        t.remove("electra/encoder/layer_1/output/LayerNorm/gamma");
        var e = assertThrows(CheckpointFormatException.class, () -> CheckpointConverter.convert(
                new Checkpoint(ck.format(), ck.source(), t, Map.of()), null, null));
        assertTrue(e.getMessage().contains("missing (1): encoder.layer.1.output.LayerNorm.weight"), e.getMessage());
    }

    private static Object get(ConvBertConfig c, String accessor) {
        try {
            return ConvBertConfig.class.getMethod(accessor).invoke(c);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
