package dev.convbert.core.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.TestData;
import org.junit.jupiter.api.Test;
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

    @Test
    void presetParameterCountsMatchThePaper() {
        // convbert-spec.md §b: computed 13.14M / 17.48M / 105.68M; README claims 17M for medium-small
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
    void errorsNameTheFieldAndValues(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"hidden_size\": 100, \"num_attention_heads\": 12}");
        var ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().contains("hidden_size (100) must be divisible by num_attention_heads (12)"), ex.getMessage());
        Files.writeString(f, "{\"conv_kernel_size\": 8}");
        ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().contains("conv_kernel_size (8) must be odd"), ex.getMessage());
        Files.writeString(f, "{\"hidden_size\": \"big\"}");
        ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().contains("field \"hidden_size\" must be an integer"), ex.getMessage());
        Files.writeString(f, "{\"num_labels\": 3, \"id2label\": {\"0\": \"a\", \"1\": \"b\"}}");
        ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().contains("\"num_labels\" is 3 but id2label has 2"), ex.getMessage());
        Files.writeString(f, "{not json");
        ex = assertThrows(ConfigException.class, () -> ConvBertConfig.read(f));
        assertTrue(ex.getMessage().startsWith(f + ": not valid JSON"), ex.getMessage());
        assertThrows(ConfigException.class, () -> ConvBertConfig.preset("large"));
    }
}
