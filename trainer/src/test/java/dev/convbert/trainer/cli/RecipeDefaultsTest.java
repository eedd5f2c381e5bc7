package dev.convbert.trainer.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.trainer.model.TaskModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The recipe's learning rate follows the model's size also when the model comes from --model (it was 3e-4 for base). */
class RecipeDefaultsTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));

    @Test
    void aBaseSizedModelDirectoryFineTunesAtTheBaseLearningRate(@TempDir Path dir) throws Exception {
        ConvBertConfig wide = ConvBertConfig.tiny().toBuilder().hiddenSize(768).numHiddenLayers(1).numAttentionHeads(12)
                .intermediateSize(768).convKernelSize(9).numGroups(1).build();
        Path model = dir.resolve("base-width");
        try (TaskModel m = TaskModel.initialise(wide, Device.cpu(), 1)) {
            m.save(model, TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt"));
        }
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute("finetune",
                "--task", "sst-2", "--data-dir", TESTDATA.resolve("glue").toString(), "--model", model.toString(),
                "--output", dir.resolve("out").toString(), "--max-steps", "1", "--batch-size", "2");
        assertEquals(0, code, err.toString());
        var metrics = new ObjectMapper().readTree(dir.resolve("out/training_metrics.json").toFile());
        assertEquals(1e-4, metrics.findValue("learning_rate").asDouble(), 0.0, metrics.toString());
    }
}
