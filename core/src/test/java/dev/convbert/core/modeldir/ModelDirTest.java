package dev.convbert.core.modeldir;

import dev.convbert.core.TestData;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.safetensors.SafeTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.glue.GlueTask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelDirTest {
    @Test
    void opensTheReferenceDirectory() {
        ModelDir d = ModelDir.open(TestData.path("reference/public-tiny"));
        assertEquals(64, d.config().hiddenSize());
        assertTrue(d.weights().tensors().containsKey("classifier.out_proj.weight"));
        assertNull(d.trainingMetrics());
    }

    @Test
    void writeThenOpen(@TempDir Path dir) throws IOException {
        ConvBertConfig c = ConvBertConfig.small().withLabels(List.of("negative", "positive"));
        Path out = dir.resolve("model");
        ModelDir.write(out, c, List.of(SafeTensor.ofFloats("x", new long[]{2}, new float[]{1, 2})), TestData.vocab(), Map.of("format", "pt"));
        ModelDir d = ModelDir.open(out);
        String sha = dev.convbert.core.io.Hashing.sha256(TestData.vocab());
        assertEquals(c.withExtra(ModelDir.VOCAB_SHA256, sha).withExtra("architectures",
                        new ObjectMapper().createArrayNode().add("ConvBertModel")), d.config(),
                "the config, recording its vocabulary's sha256 and its architecture");
        assertEquals(java.util.Optional.of(sha), d.vocabSha256());
        assertEquals(List.of("negative", "positive"), d.config().id2label());
        assertArrayEquals(new float[]{1, 2}, d.weights().get("x").toFloats());
        assertEquals(30522, Files.readAllLines(d.vocabFile()).size());
    }

    /**
     * What HF's Auto classes read beside our weights: tokenizer_config.json and special_tokens_map.json with the
     * vocabulary (AutoTokenizer), and architectures in config.json (AutoModel picks the class from it).
     */
    @Test
    void aDirectoryWithAVocabularyCarriesHfTokenizerFilesAndArchitectures(@TempDir Path dir) throws IOException {
        ConvBertConfig c = ConvBertConfig.small().withLabels(GlueTask.SST_2.labelNames());
        Path classifier = dir.resolve("classifier");
        ModelDir.write(classifier, c, List.of(SafeTensor.ofFloats("classifier.out_proj.weight", new long[]{2}, new float[]{1, 2})),
                TestData.vocab(), Map.of());
        ObjectMapper json = new ObjectMapper();
        JsonNode config = json.readTree(classifier.resolve("config.json").toFile());
        assertEquals("[\"ConvBertForSequenceClassification\"]", config.get("architectures").toString());
        assertEquals("{\"0\":\"negative\",\"1\":\"positive\"}", config.get("id2label").toString(), "HF's GLUE names, not 0/1");
        JsonNode tokenizer = json.readTree(classifier.resolve("tokenizer_config.json").toFile());
        assertEquals("ConvBertTokenizer", tokenizer.get("tokenizer_class").asText());
        assertTrue(tokenizer.get("do_lower_case").asBoolean());
        assertEquals(c.maxPositionEmbeddings(), tokenizer.get("model_max_length").asInt());
        JsonNode special = json.readTree(classifier.resolve("special_tokens_map.json").toFile());
        assertEquals("[CLS]", special.get("cls_token").asText());
        assertEquals("[MASK]", special.get("mask_token").asText());
        assertEquals(List.of("0", "1"), GlueTask.SST_2.labels(), "submissions keep GLUE's values");

        Path encoder = dir.resolve("encoder");
        ModelDir.write(encoder, ConvBertConfig.small(), List.of(SafeTensor.ofFloats("x", new long[]{1}, new float[]{1})), null, Map.of());
        assertEquals("[\"ConvBertModel\"]", json.readTree(encoder.resolve("config.json").toFile()).get("architectures").toString());
        assertTrue(Files.notExists(encoder.resolve("tokenizer_config.json")), "no vocabulary, no tokenizer files");
    }

    @Test
    void otherPickleFilesAreRefused(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.write(dir.resolve("model.pt"), new byte[]{(byte) 0x80, 2});
        var ex = assertThrows(ModelDirException.class, () -> ModelDir.open(dir));
        assertTrue(ex.getMessage().contains("model.pt: only pickles named pytorch_model.bin"), ex.getMessage());
    }

    /** A hub directory (config.json + pytorch_model.bin) opens as it is, through the restricted unpickler. */
    @Test
    void hubDirectoryWithPytorchModelBinOpens() throws IOException {
        ModelDir d = ModelDir.open(TestData.path("interop/public-tiny/bin"));
        assertTrue(d.weightsFile().endsWith("pytorch_model.bin"));
        assertTrue(d.hasClassificationHead());
        var reference = dev.convbert.core.safetensors.Safetensors.read(TestData.path("reference/public-tiny/model.safetensors"));
        assertEquals(reference.tensors().keySet(), d.weights().tensors().keySet());
        assertArrayEquals(reference.get("classifier.out_proj.weight").toFloats(), d.weights().get("classifier.out_proj.weight").toFloats());
    }

    @Test
    void missingPiecesAreNamed(@TempDir Path dir) throws IOException {
        var ex = assertThrows(ModelDirException.class, () -> ModelDir.open(dir.resolve("nope")));
        assertTrue(ex.getMessage().contains("not a directory"));
        Files.write(dir.resolve("model.safetensors"), new byte[]{1});
        ex = assertThrows(ModelDirException.class, () -> ModelDir.open(dir));
        assertTrue(ex.getMessage().contains("config.json: missing"), ex.getMessage());
        Files.writeString(dir.resolve("config.json"), "{}");
        ModelDir d = ModelDir.open(dir);
        ex = assertThrows(ModelDirException.class, d::weights);
        assertTrue(ex.getMessage().contains("model.safetensors: file is 1 bytes"), ex.getMessage());
        ex = assertThrows(ModelDirException.class, d::vocabFile);
        assertTrue(ex.getMessage().contains("vocab.txt: missing; pass --vocab FILE"), ex.getMessage());
    }
}
