package dev.convbert.core.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convbert.core.InvalidInputException;

/**
 * One input's texts as every command and the server take them: {@code {"text_a": "…", "text_b": "…" | null}}.
 *
 * @param b {@code null} for single-sentence tasks
 */
public record TextPair(String a, String b) {

    /** Reads {@code text_a} and {@code text_b} from {@code node}; errors start with {@code where} (file:line, inputs[i]). */
    public static TextPair parse(JsonNode node, String where) {
        JsonNode a = node.get("text_a");
        JsonNode b = node.get("text_b");
        if (a == null || !a.isTextual()) {
            throw new InvalidInputException(where + ": field \"text_a\" must be a string");
        }
        if (b != null && !b.isNull() && !b.isTextual()) {
            throw new InvalidInputException(where + ": field \"text_b\" must be a string or null");
        }
        return new TextPair(a.asText(), b == null || b.isNull() ? null : b.asText());
    }

    public int chars() {
        return a.length() + (b == null ? 0 : b.length());
    }

    public Encoding encode(BertTokenizer tokenizer, int maxLength) {
        return tokenizer.encode(a, b, maxLength);
    }
}
