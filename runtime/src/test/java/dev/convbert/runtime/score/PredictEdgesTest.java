package dev.convbert.runtime.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** predict on ONNX Runtime at the edges: ids the model cannot take, outputs that are inputs or special files. */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class PredictEdgesTest {
    final StringWriter err = new StringWriter();

    int predict(Path in, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("predict", "--model", TinyModel.ONNX.toString(), "--vocab",
                TinyModel.VOCAB.toString(), "--input", in.toString(), "--output", out.toString()));
        args.addAll(List.of(more));
        return ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute(args.toArray(String[]::new));
    }

    /** Were exit 4 ("a bug") from deep inside ONNX Runtime's Gather; now exit 2 naming line and field. */
    @Test
    void idsTheModelCannotTakeAreBadInputNamingLineAndField(@TempDir Path dir) throws Exception {
        String[][] cases = {
                {"{\"input_ids\": [101, 2204, 102], \"token_type_ids\": [0, 2, 0]}", "in.jsonl:1: token_type_ids[1] = 2 is outside [0, 2) (type_vocab_size)"},
                {"{\"input_ids\": [101, 30522, 102]}", "in.jsonl:1: input_ids[1] = 30522 is outside the vocabulary [0, 30522)"},
                {"{\"input_ids\": [101, 2204, 102], \"attention_mask\": [0, 0, 0]}", "in.jsonl:1: attention_mask is all zeros"},
                {"{\"input_ids\": [101, 2204, 102], \"attention_mask\": [1, 2, 1]}", "in.jsonl:1: attention_mask[1] = 2; expected 0 or 1"}};
        for (String[] c : cases) {
            Path in = Files.writeString(dir.resolve("in.jsonl"), c[0] + "\n");
            assertEquals(2, predict(in, dir.resolve("out.jsonl")), c[0] + ": " + err);
            assertTrue(err.toString().contains(c[1]), c[0] + ": " + err);
        }
        assertTrue(Files.notExists(dir.resolve("out.jsonl")));
    }

    @Test
    void anOutputThatIsTheInputIsRefusedAndTheInputKept(@TempDir Path dir) throws Exception {
        String text = "{\"text_a\": \"a fine film\"}\n";
        Path in = Files.writeString(dir.resolve("in.jsonl"), text);
        Files.createDirectories(dir.resolve("sub"));
        assertEquals(2, predict(in, dir.resolve("sub/../in.jsonl")), err.toString());
        Files.createLink(dir.resolve("hard.jsonl"), in);
        assertEquals(2, predict(in, dir.resolve("hard.jsonl")), err.toString());
        assertTrue(err.toString().contains("is the input file"), err.toString());
        assertEquals(text, Files.readString(in));
    }

    /** A FIFO's reader gets the lines (renaming over it would leave the reader with nothing); ids and labels pass through. */
    @Test
    void aFifoIsWrittenInPlaceAndIdentifyingFieldsPassThrough(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.jsonl"),
                "{\"id\": \"r-7\", \"text_a\": \"a fine film\", \"label\": 1}\n{\"idx\": 3, \"text_a\": \"a dull one\"}\n");
        Path fifo = dir.resolve("out.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CompletableFuture<List<String>> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.readAllLines(fifo);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(0, predict(in, fifo), err.toString());
        List<String> lines = reader.get(60, TimeUnit.SECONDS);
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "still a FIFO");
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals("r-7", first.get("id").asText());
        assertEquals(1, first.get("label").asInt());
        assertEquals(2, first.get("logits").size());
        assertEquals(3, json.readTree(lines.get(1)).get("idx").asInt());
        if (Files.isWritable(Path.of("/dev/null"))) {
            assertEquals(0, predict(in, Path.of("/dev/null")), err.toString());
            assertTrue(!Files.isRegularFile(Path.of("/dev/null")), "/dev/null is still a device");
        }
    }
}
