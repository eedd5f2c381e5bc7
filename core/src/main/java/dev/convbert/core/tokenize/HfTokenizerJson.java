package dev.convbert.core.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Describes {@link BertTokenizer}'s pipeline as a HuggingFace {@code tokenizer.json} (BertNormalizer, BertPreTokenizer,
 * WordPiece, [CLS]/[SEP] template), so HF tooling tokenizes exactly as we do; the tests use it to run HF's own
 * implementation as the reference.
 */
public final class HfTokenizerJson {
    private HfTokenizerJson() {}

    /** The tokenizer.json of bert-base-uncased's pipeline over {@code vocabFile}. */
    public static String forVocab(Path vocabFile) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        List<String> vocab = Files.readAllLines(vocabFile);
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            added.addObject().put("id", vocab.indexOf(s)).put("content", s).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).putNull("strip_accents").put("lowercase", true);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        special(single, "[CLS]", 0);
        sequence(single, "A", 0);
        special(single, "[SEP]", 0);
        ArrayNode pair = post.putArray("pair");
        special(pair, "[CLS]", 0);
        sequence(pair, "A", 0);
        special(pair, "[SEP]", 0);
        sequence(pair, "B", 1);
        special(pair, "[SEP]", 1);
        ObjectNode specials = post.putObject("special_tokens");
        for (String s : List.of("[CLS]", "[SEP]")) {
            ObjectNode o = specials.putObject(s);
            o.put("id", s);
            o.putArray("ids").add(vocab.indexOf(s));
            o.putArray("tokens").add(s);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) {
            v.put(vocab.get(i), i);
        }
        return m.writeValueAsString(root);
    }

    private static void special(ArrayNode a, String id, int type) {
        a.addObject().putObject("SpecialToken").put("id", id).put("type_id", type);
    }

    private static void sequence(ArrayNode a, String id, int type) {
        a.addObject().putObject("Sequence").put("id", id).put("type_id", type);
    }
}
