package dev.convbert.core.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvBertConfigTest {
    /** The builder's defaults are HF's: an empty config.json and an empty builder are the same config. */
    @Test
    void builderStartsFromHfDefaultsAndRoundTrips() {
        assertEquals(ConvBertConfig.fromJson(new ObjectMapper().createObjectNode()), ConvBertConfig.builder().build());
        for (String preset : List.of("tiny", "small", "medium-small", "base")) {
            ConvBertConfig c = ConvBertConfig.preset(preset);
            assertEquals(c, c.toBuilder().build(), preset);
            assertEquals(c, ConvBertConfig.fromJson(c.toJson()), preset);
        }
        ConvBertConfig tiny = ConvBertConfig.tiny();
        assertEquals(List.of(32, 2, 4, 64, 16, 5, 2), List.of(tiny.hiddenSize(), tiny.numHiddenLayers(),
                tiny.numAttentionHeads(), tiny.intermediateSize(), tiny.embeddingSize(), tiny.convKernelSize(), tiny.numGroups()));
        assertEquals(7, tiny.toBuilder().convKernelSize(7).build().convKernelSize());
        var ex = assertThrows(ConfigException.class, () -> tiny.toBuilder().convKernelSize(4).build());
        assertTrue(ex.getMessage().contains("conv_kernel_size (4) must be odd"), ex.getMessage());
    }

    /** --config: a preset takes the vocabulary's size; a config.json keeps its own and must agree with the vocabulary. */
    @Test
    void aConfigForAVocabularyIsAPresetSizedToItOrAFileThatAgrees(@TempDir Path dir) throws IOException {
        Path vocab = dir.resolve("vocab.txt");
        assertEquals(30522, ConvBertConfig.presetOrFile("small").vocabSize());
        assertEquals(1000, ConvBertConfig.forVocabulary("small", vocab, 1000).vocabSize());
        Path file = dir.resolve("config.json");
        ConvBertConfig.tiny().toBuilder().vocabSize(1000).build().write(file);
        assertEquals(ConvBertConfig.read(file), ConvBertConfig.presetOrFile(file.toString()));
        assertEquals(1000, ConvBertConfig.forVocabulary(file.toString(), vocab, 1000).vocabSize());
        var ex = assertThrows(ConfigException.class, () -> ConvBertConfig.forVocabulary(file.toString(), vocab, 999));
        assertTrue(ex.getMessage().contains(file + ": vocab_size 1000 but " + vocab + " has 999 tokens"), ex.getMessage());
        assertThrows(ConfigException.class, () -> ConvBertConfig.presetOrFile("large"));
    }

    @Test
    void presetParameterCountsMatchThePaper() {
        // docs/RECIPE.md §b: computed 13.14M / 17.48M / 105.68M; README claims 17M for medium-small
        assertEquals(13_143_768, ConvBertConfig.small().parameterCount());
        assertEquals(17.48e6, ConvBertConfig.mediumSmall().parameterCount(), 0.01e6);
        assertEquals(105.68e6, ConvBertConfig.base().parameterCount(), 0.01e6);
        ConvBertConfig ms = ConvBertConfig.mediumSmall();
        assertEquals(4, ms.selfAttentionHeads());
        assertEquals(48, ms.headSize());
        assertEquals(192, ms.allHeadSize());
        assertEquals(2, ms.numGroups());
        assertTrue(ms.paddingInvariant(), "models this project creates are padding-invariant");
    }

    @Test
    void readsReferenceConfigWithHfFieldNames() throws IOException {
        ConvBertConfig c = ConvBertConfig.read(TestData.path("reference/public-tiny/config.json"));
        assertEquals(64, c.hiddenSize());
        assertEquals(32, c.embeddingSize());
        assertEquals(3, c.numLabels());
        assertEquals(0, c.padTokenId());
        assertFalse(c.paddingInvariant(), "absent field = HF semantics");
        assertEquals(List.of("convbertforsequenceclassification"),
                List.of(c.extra().get("architectures").get(0).asText().toLowerCase()));
        ConvBertConfig g = ConvBertConfig.read(TestData.path("reference/public-grouped/config.json"));
        assertTrue(g.isRegression());
        assertEquals(2, g.numGroups());
    }

    @Test
    void roundTripKeepsUnknownFields(@TempDir Path dir) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode src = (ObjectNode) m.readTree(TestData.path("reference/public-tiny/config.json").toFile());
        src.put("some_future_field", "kept");
        src.putObject("nested").put("x", 1);
        ConvBertConfig c = ConvBertConfig.fromJson(src);
        Path out = dir.resolve("config.json");
        c.write(out);
        ObjectNode back = (ObjectNode) m.readTree(out.toFile());
        assertEquals("kept", back.get("some_future_field").asText());
        assertEquals(1, back.get("nested").get("x").asInt());
        assertEquals("float32", back.get("torch_dtype").asText());
        assertEquals(c, ConvBertConfig.read(out));
        assertEquals(3, back.get("num_labels").asInt());
        assertEquals(2, back.get("label2id").get("LABEL_2").asInt());
    }

    @Test
    void paddingInvariantFlagRoundTrips(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("config.json");
        ConvBertConfig.small().write(out);
        assertTrue(Files.readString(out).contains("\"padding_invariant\" : true"));
        assertTrue(ConvBertConfig.read(out).paddingInvariant());
    }

    @Test
    void aFileThatIsNotJsonIsNamed(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("config.json"), "{not json");
        var ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().startsWith(f + ": not valid JSON"), ex.getMessage());
        assertThrows(ConfigException.class, () -> ConvBertConfig.preset("large"));
    }

    /**
     * Every refusal names the field, the value and what is allowed. The ranges: each of these gave NaN logits with
     * exit 0, hung, or died with a raw OutOfMemoryError before they were checked.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"hidden_size\": 100, \"num_attention_heads\": 12} | hidden_size (100) must be divisible by num_attention_heads (12)",
            "{\"conv_kernel_size\": 8}                 | conv_kernel_size (8) must be odd",
            "{\"hidden_size\": \"big\"}                | field \"hidden_size\" must be an integer, found \"big\"",
            "{\"padding_invariant\": \"yes\"}          | field \"padding_invariant\" must be true or false, found \"yes\"",
            "{\"padding_invariant\": null, \"layer_norm_eps\": \"small\"} | field \"layer_norm_eps\" must be a number, found \"small\"",
            "{\"num_labels\": 3, \"id2label\": {\"0\": \"a\", \"1\": \"b\"}} | \"num_labels\" is 3 but id2label has 2",
            "{\"layer_norm_eps\": 0}                   | field \"layer_norm_eps\" is 0.0; allowed (0, 1]",
            "{\"layer_norm_eps\": -1e-12}              | field \"layer_norm_eps\" is -1.0E-12",
            "{\"hidden_dropout_prob\": 1.5}            | field \"hidden_dropout_prob\" is 1.5; allowed [0, 1)",
            "{\"attention_probs_dropout_prob\": -0.1}  | field \"attention_probs_dropout_prob\" is -0.1",
            "{\"classifier_dropout\": 1}               | field \"classifier_dropout\" is 1.0",
            "{\"pad_token_id\": 40000}                 | field \"pad_token_id\" is 40000; allowed [0, vocab_size 30522)",
            "{\"num_hidden_layers\": 1000000000}       | field \"num_hidden_layers\" is 1000000000; allowed at most 1024",
            "{\"vocab_size\": 2000000000}              | field \"vocab_size\" is 2000000000; allowed at most"})
    void badFieldsAreRefusedWithFieldValueAndWhatIsAllowed(String json, String expected, @TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("config.json"), json);
        var ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().contains(expected), ex.getMessage());
    }

    @Test
    void aModelLargerThanTheHeapIsRefusedBeforeAllocating() {
        ConvBertConfig huge = ConvBertConfig.builder().hiddenSize(16384).numHiddenLayers(1024).numAttentionHeads(16)
                .intermediateSize(65536).embeddingSize(16384).build();
        var ex = assertThrows(ConfigException.class, () -> huge.requireFitsInHeap("building the model"));
        assertTrue(ex.getMessage().contains("more than this JVM's") && ex.getMessage().contains("CONVBERT_JAVA_OPTS"), ex.getMessage());
        ConvBertConfig.small().requireFitsInHeap("building the model");
    }
}
