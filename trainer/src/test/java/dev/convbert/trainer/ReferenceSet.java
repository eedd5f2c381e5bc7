package dev.convbert.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.reference.ReferenceData;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One set of the independent reference implementation's outputs, copied under testdata/reference. */
public record ReferenceSet(String name, Path dir, long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask) {

    public static final String[] NAMES = {"public-tiny", "public-grouped"};

    public static ReferenceSet load(String name) throws IOException {
        Path dir = Path.of(System.getProperty("convbert.testdata", "../testdata")).resolve("reference").resolve(name);
        ReferenceData in = ReferenceData.read(dir);
        return new ReferenceSet(name, dir, in.inputIds(), in.tokenTypeIds(), in.attentionMask());
    }

    /** A float64 little-endian output file, flattened in C order. */
    public double[] f64(String output) throws IOException {
        return ReferenceData.readF64(dir.resolve(output + ".f64.bin"));
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

}
