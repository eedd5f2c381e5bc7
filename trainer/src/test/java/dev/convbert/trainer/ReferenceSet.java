package dev.convbert.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One set of the independent reference implementation's outputs, copied under testdata/reference. */
public record ReferenceSet(String name, Path dir, long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask) {

    public static final String[] NAMES = {"public-tiny", "public-grouped"};

    public static ReferenceSet load(String name) throws IOException {
        Path dir = Path.of(System.getProperty("convbert.testdata", "../testdata")).resolve("reference").resolve(name);
        JsonNode in = new ObjectMapper().readTree(dir.resolve("inputs.json").toFile());
        return new ReferenceSet(name, dir, matrix(in.get("input_ids")), matrix(in.get("token_type_ids")),
                matrix(in.get("attention_mask")));
    }

    /** A float64 little-endian output file, flattened in C order. */
    public double[] f64(String output) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(output + ".f64.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[b.remaining() / 8];
        b.asDoubleBuffer().get(out);
        return out;
    }

    /** The inputs as predict's JSONL id lines, one per row, padding included. */
    public List<String> idLines() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (int b = 0; b < batch(); b++) {
            var o = json.createObjectNode();
            o.set("input_ids", json.valueToTree(inputIds[b]));
            o.set("token_type_ids", json.valueToTree(tokenTypeIds[b]));
            o.set("attention_mask", json.valueToTree(attentionMask[b]));
            lines.add(json.writeValueAsString(o));
        }
        return lines;
    }

    public int batch() {
        return inputIds.length;
    }

    public int length() {
        return inputIds[0].length;
    }

    private static long[][] matrix(JsonNode rows) {
        long[][] out = new long[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            out[i] = new long[rows.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = rows.get(i).get(j).asLong();
            }
        }
        return out;
    }
}
