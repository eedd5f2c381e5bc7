package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The model page in headless Chromium: a sentence typed, Predict clicked, the label, two probability bars and the
 * latency read back, a screenshot saved. Runs where Chromium is installed (apt-get install chromium), skipped elsewhere.
 */
class PageCheckTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void aPersonCanTryTheModelInABrowser(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "Chromium is not installed (apt-get install chromium)");
        Path model = Path.of(System.getProperty("convbert.testdata", "../testdata"), "tiny-sst2", "model.onnx");
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                .execute("page-check", "--model", model.toString(), "--output", dir.toString(), "--browser", CHROMIUM.toString(),
                        "--vocab", model.resolveSibling("../vocab/bert-base-uncased-vocab.txt").normalize().toString());
        assertEquals(0, code, err.toString());
        JsonNode r = new ObjectMapper().readTree(dir.resolve("page-check.json").toFile());
        // the model's id2label says 0/1; the page names them as GLUE's SST-2 means them
        assertTrue(r.get("label").asText().matches("(negative|positive) \\(\\d+\\.\\d %\\)"), r.toString());
        assertEquals(2, r.get("bars").size(), r.toString());
        double sum = r.get("bars").get(0).get("probability").asDouble() + r.get("bars").get(1).get("probability").asDouble();
        assertEquals(1.0, sum, 1e-6, r.toString());
        assertTrue(r.get("latency").asText().matches("answered in \\d+ ms.*"), r.toString());
        assertTrue(r.get("card").asText().contains("task sst-2"), r.toString());
        assertTrue(!r.get("pair_field_shown").asBoolean(), "SST-2 takes one sentence: no second field");
        byte[] png = Files.readAllBytes(dir.resolve("page.png"));
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));

        // the same weights recorded as an MRPC model: the page asks for the second sentence and sends it
        ai.onnx.proto.OnnxMl.ModelProto.Builder b = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(model)).toBuilder();
        for (int i = 0; i < b.getMetadataPropsCount(); i++) {
            if (b.getMetadataProps(i).getKey().equals("convbert.task")) {
                b.setMetadataProps(i, b.getMetadataProps(i).toBuilder().setValue("mrpc"));
            }
        }
        Path pair = Files.write(dir.resolve("mrpc.onnx"), b.build().toByteArray());
        Path pairOut = dir.resolve("pair");
        code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true))
                .execute("page-check", "--model", pair.toString(), "--output", pairOut.toString(), "--browser", CHROMIUM.toString(),
                        "--vocab", model.resolveSibling("../vocab/bert-base-uncased-vocab.txt").normalize().toString());
        assertEquals(0, code, err.toString());
        JsonNode p = new ObjectMapper().readTree(pairOut.resolve("page-check.json").toFile());
        assertTrue(p.get("pair_field_shown").asBoolean(), p.toString());
        assertTrue(p.get("card").asText().contains("task mrpc"), p.toString());
        assertEquals(2, p.get("bars").size(), p.toString());
    }
}
