package dev.convbert.trainer.cli;

import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.modeldir.ModelDirException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model directories record their vocabulary's sha256; training and prediction refuse any other vocabulary. */
class VocabularyCheckTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final Path VOCAB = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");
    final StringWriter err = new StringWriter();

    int run(String... args) {
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(args);
    }

    static Path swapped(Path dir) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(VOCAB));
        Collections.swap(lines, lines.indexOf("good"), lines.indexOf("bad"));
        return Files.write(Files.createDirectories(dir).resolve("swapped-vocab.txt"), lines);
    }

    String[] finetune(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("finetune", "--task", "sst-2", "--data-dir", TESTDATA.resolve("glue").toString(),
                "--config", TESTDATA.resolve("tiny-sst2/config-tiny.json").toString(), "--output", out.toString(),
                "--max-steps", "2", "--batch-size", "4", "--save-every", "1"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void resumeFineTuningAndPredictionRefuseAnotherVocabulary(@TempDir Path dir) throws Exception {
        Path other = swapped(dir.resolve("other"));
        Path out = dir.resolve("run");
        assertEquals(0, run(finetune(out, "--vocab", VOCAB.toString())), err.toString());
        assertTrue(ModelDir.open(out).config().extra().has(ModelDir.VOCAB_SHA256), "the model records its vocabulary");

        // resuming with another vocabulary would train on other ids
        assertEquals(2, run(finetune(out, "--vocab", other.toString(), "--resume")), err.toString());
        assertTrue(err.toString().contains("vocab_sha256"), err.toString());

        // fine-tuning a model directory with another vocabulary
        err.getBuffer().setLength(0);
        assertEquals(2, run("finetune", "--task", "sst-2", "--data-dir", TESTDATA.resolve("glue").toString(), "--model",
                out.toString(), "--vocab", other.toString(), "--output", dir.resolve("again").toString(), "--max-steps", "1"));
        assertTrue(err.toString().contains("is not the vocabulary of " + out), err.toString());

        // predict with another --vocab
        Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"text_a\": \"a good movie\"}\n");
        err.getBuffer().setLength(0);
        assertEquals(2, run("predict", "--model", out.toString(), "--input", in.toString(), "--output",
                dir.resolve("p.jsonl").toString(), "--vocab", other.toString()), err.toString());
        assertTrue(err.toString().contains("is not the vocabulary " + out + " was trained with"), err.toString());

        // and a vocab.txt swapped inside the model directory
        Files.copy(other, out.resolve("vocab.txt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        var e = assertThrows(ModelDirException.class, () -> ModelDir.open(out).vocabFile());
        assertTrue(e.getMessage().contains("changed since the model was written"), e.getMessage());
    }
}
