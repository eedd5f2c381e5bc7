package dev.convbert.core.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One set of an independent ConvBERT implementation's outputs (a folder of the reference outputs a user points us
 * at, or its copy under testdata): the padded batch of {@code inputs.json} and float64 little-endian output files such as
 * {@code logits.f64.bin}, flattened in C order. Parity checks compare our numbers against these, never against our own.
 */
public record ReferenceData(Path dir, long[][] inputIds, long[][] tokenTypeIds, long[][] attentionMask) {

    public static ReferenceData read(Path dir) throws IOException {
        Path file = dir.resolve("inputs.json");
        JsonNode in = new ObjectMapper().readTree(file.toFile());
        return new ReferenceData(dir, matrix(in, "input_ids", file), matrix(in, "token_type_ids", file),
                matrix(in, "attention_mask", file));
    }

    /** The output file {@code NAME.f64.bin} of this set. */
    public double[] f64(String output) throws IOException {
        return readF64(dir.resolve(output + ".f64.bin"));
    }

    public static double[] readF64(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[b.remaining() / Double.BYTES];
        b.asDoubleBuffer().get(out);
        return out;
    }

    private static long[][] matrix(JsonNode in, String field, Path file) {
        JsonNode rows = in.get(field);
        if (rows == null || !rows.isArray()) {
            throw new InvalidInputException(file + ": \"" + field + "\" must be an array of rows of token ids");
        }
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
