package dev.convbert.core.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.convbert.core.TestData;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our tokenizer against HuggingFace's own (the Rust {@code tokenizers} library, through DJL's binding, test scope
 * only), configured exactly as bert-base-uncased's tokenizer.json.
 */
class HfTokenizerParityTest {
    static HuggingFaceTokenizer hf;
    static BertTokenizer ours;

    static final List<String> MESSY = List.of(
            "", " ", "Hello, World!", "Héllo wörld — naïve café résumé", "e\u0301te\u0301", "ÅNGSTRÖM Øresund ß straße",
            "中文字符和English混合", "日本語のテキスト、カタカナ", "한국어 텍스트", "Ελληνικά ΣΟΦΙΑ σοφός",
            "emoji 😀🎉👍🏽 family 👨‍👩‍👧", "a\u200Bb\u200Cc\u200Dd", "zero\uFEFFwidth", "ctrl\u0001\u0002\u0003chars\u007F",
            "tab\tnew\nline\rcarriage", "nbsp\u00A0ideo\u3000em\u2003thin\u2009narrow\u202F", "line\u2028para\u2029sep",
            "nel\u0085next", "vt\u000Bff\u000C", "repl\uFFFDchar", "a".repeat(99), "b".repeat(100), "c".repeat(101),
            "x".repeat(99) + "é", "supercalifragilisticexpialidocious antidisestablishmentarianism",
            "$100 + 50% = <tag> ^caret^ `tick` |pipe| ~tilde~", "«quotes» „German“ ‘single’ “double”", "1,234.56 3/4 -7",
            "[CLS] literal [SEP] and [MASK]ed [UNK]", "ﬁ ligature ﬀ ﬃ", "Ⅻ roman ①②③", "İstanbul ıi", "Ǆ ǅ ǆ",
            "http://example.com/path?q=1&r=2", "user@example.org", "don't won't y'all", "...!!!???",
            "\uD835\uDC00\uD835\uDC01 math bold", "\u0301leading combining", "Ａ ｆｕｌｌ ｗｉｄｔｈ", "ǰ ẞ ﬆ");

    @BeforeAll
    static void load(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path vocab = TestData.vocab();
        ours = new BertTokenizer(Vocab.read(vocab));
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, HfTokenizerJson.forVocab(vocab));
        hf = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "true", "truncation", "false",
                "padding", "false", "modelMaxLength", "100000"));
    }

    @AfterAll
    static void close() {
        hf.close();
    }

    @Test
    void messyUnicodeSingle() {
        for (String s : MESSY) {
            assertSame(s, null);
        }
    }

    @Test
    void messyUnicodePairs() {
        for (int i = 0; i + 1 < MESSY.size(); i++) {
            assertSame(MESSY.get(i), MESSY.get(i + 1));
        }
    }

    @Test
    void glueSentencesOfEveryTask() throws IOException {
        Path glue = TestData.path("glue");
        int n = 0;
        for (GlueTask task : GlueTask.values()) {
            for (GlueTask.Split split : task.splits()) {
                for (GlueExample e : GlueReader.read(glue, task, split.name())) {
                    assertSame(e.textA(), e.textB());
                    n++;
                }
            }
        }
        assertEquals(true, n > 150, "fixtures cover every task: " + n);
    }

    @Test
    void longPairsTruncatedLikeBert() throws IOException {
        List<GlueExample> rte = GlueReader.read(TestData.path("glue"), GlueTask.RTE, "train");
        for (GlueExample e : rte) {
            String a = (e.textA() + " ").repeat(6);
            String b = (e.textB() + " ").repeat(9);
            List<String> ta = tokensWithout(hf.encode(a, false, false).getTokens());
            List<String> tb = tokensWithout(hf.encode(b, false, false).getTokens());
            BertTokenizer.truncateLongestFirst(ta, tb, 128 - 3);
            List<String> expected = new ArrayList<>();
            expected.add("[CLS]");
            expected.addAll(ta);
            expected.add("[SEP]");
            expected.addAll(tb);
            expected.add("[SEP]");
            Encoding got = ours.encode(a, b, 128);
            assertEquals(expected, got.tokens());
            assertEquals(128, got.length());
        }
    }

    private static List<String> tokensWithout(String[] tokens) {
        return new ArrayList<>(Arrays.asList(tokens));
    }

    private static void assertSame(String a, String b) {
        var expected = b == null ? hf.encode(a) : hf.encode(a, b);
        Encoding got = ours.encode(a, b, 100000);
        int[] ids = Arrays.stream(expected.getIds()).mapToInt(Math::toIntExact).toArray();
        int[] types = Arrays.stream(expected.getTypeIds()).mapToInt(Math::toIntExact).toArray();
        assertArrayEquals(ids, got.inputIds(), () -> "ids differ for " + show(a, b) + "\n hf:   "
                + Arrays.toString(expected.getTokens()) + "\n ours: " + got.tokens());
        assertArrayEquals(types, got.tokenTypeIds(), () -> "token_type_ids differ for " + show(a, b));
    }

    private static String show(String a, String b) {
        return "a=" + escape(a) + (b == null ? "" : " b=" + escape(b));
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp > 0x7e) sb.append(String.format("\\u%04X", cp));
            else sb.appendCodePoint(cp);
        });
        return sb.append('"').toString();
    }
}
