package dev.convbert.core.tokenize;

import dev.convbert.core.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expectations written from BERT's published algorithm (tokenization.py and its README), not from our output. */
class BertTokenizerTest {
    static BertTokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        tok = new BertTokenizer(Vocab.read(TestData.vocab()));
    }

    private static List<String> t(String s) {
        return tok.tokenize(s);
    }

    @Test
    void readmeExamples() {
        // greedy longest-match-first against this vocab: "una" is the longest prefix in it, then "##ffa", "##ble"
        assertEquals(List.of("una", "##ffa", "##ble"), t("unaffable"));
        assertEquals(List.of("token", "##ization"), t("tokenization"));
        assertEquals(List.of("hello", ",", "world", "!"), t("Hello, WORLD!"));
        assertEquals(List.of("don", "'", "t"), t("don't"));
    }

    @Test
    void accentsAndCombiningMarksAreStripped() {
        assertEquals(t("cafe resume naive"), t("Café Résumé naïve"));
        // e + U+0301 COMBINING ACUTE, decomposed input
        assertEquals(t("cafe"), t("cafe\u0301"));
        assertEquals(List.of("i"), t("\u0130")); // İ -> NFD I + dot -> i
    }

    @Test
    void cjkCharactersAreWords() {
        assertEquals(List.of("中", "国", "人"), t("中国人"));
        assertEquals(List.of("a", "中", "b"), t("a中b"));
    }

    @Test
    void controlAndZeroWidthCharactersAreDropped() {
        assertEquals(List.of("ab"), t("a\u0000b"));
        assertEquals(List.of("ab"), t("a\u200Bb"));          // zero-width space (Cf)
        assertEquals(List.of("ab"), t("a\uFEFFb"));          // BOM (Cf)
        assertEquals(List.of("ab"), t("a\u0007b"));          // bell (Cc)
        assertEquals(List.of("ab"), t("a\uFFFDb"));          // replacement character
        assertEquals(List.of("a", "b", "c"), t("a\tb\r\nc"));
    }

    @Test
    void oddSpacesSplitWords() {
        assertEquals(List.of("a", "b", "c", "d", "e"), t("a\u00A0b\u3000c\u2003d\u202Fe"));
        assertEquals(List.of("a", "b"), t("  a \n\t b  "));
    }

    @Test
    void emptyAndBlankGiveNoTokens() {
        assertEquals(List.of(), t(""));
        assertEquals(List.of(), t(" \t\n"));
        Encoding e = tok.encode("", 128);
        assertEquals(List.of("[CLS]", "[SEP]"), e.tokens());
        assertArrayEquals(new int[]{101, 102}, e.inputIds());
    }

    @Test
    void wordLengthLimitIsOneHundredCodePoints() {
        String w100 = "a".repeat(100);
        String w101 = "a".repeat(101);
        assertTrue(!t(w100).contains("[UNK]"), "a 100-character word is split into pieces");
        assertEquals(List.of("[UNK]"), t(w101));
        assertEquals(List.of("[UNK]"), t("a".repeat(99) + "\uD83D\uDE00".repeat(2))); // 101 code points
        assertEquals(String.join("", t(w100)).replace("##", ""), w100);
    }

    @Test
    void emojiWithoutVocabEntryIsUnknown() {
        assertEquals(List.of("[UNK]"), t("\uD83E\uDD16"));           // 🤖 not in the vocab
        assertEquals(List.of("hi", "[UNK]", "!"), t("hi \uD83E\uDD16!"));
    }

    @Test
    void specialTokensInTextStayWhole() {
        assertEquals(List.of("[MASK]", "is", "here"), t("[MASK] is here"));
        assertEquals(List.of("a", "[SEP]", "b"), t("a[SEP]b"));
    }

    @Test
    void pairLayoutAndSegmentIds() {
        Encoding e = tok.encode("Hello world", "goodbye", 128);
        assertEquals(List.of("[CLS]", "hello", "world", "[SEP]", "goodbye", "[SEP]"), e.tokens());
        assertArrayEquals(new int[]{0, 0, 0, 0, 1, 1}, e.tokenTypeIds());
        assertEquals(101, e.inputIds()[0]);
        assertEquals(102, e.inputIds()[3]);
    }

    @ParameterizedTest
    @CsvSource({"100,200,128", "200,100,128", "70,70,128", "5,300,128", "300,5,128", "64,64,128", "10,10,16"})
    void truncationPopsFromTheLongerSegment(int lenA, int lenB, int max) {
        String a = String.join(" ", java.util.Collections.nCopies(lenA, "cat"));
        String b = String.join(" ", java.util.Collections.nCopies(lenB, "dog"));
        Encoding e = tok.encode(a, b, max);
        long cats = e.tokens().stream().filter("cat"::equals).count();
        long dogs = e.tokens().stream().filter("dog"::equals).count();
        // reference: BERT's _truncate_seq_pair, one token at a time
        int ra = lenA, rb = lenB;
        while (ra + rb > max - 3) {
            if (ra > rb) ra--; else rb--;
        }
        assertEquals(ra, cats);
        assertEquals(rb, dogs);
        assertEquals(Math.min(max, lenA + lenB + 3), e.length());
    }

    @Test
    void singleSegmentTruncation() {
        Encoding e = tok.encode(String.join(" ", java.util.Collections.nCopies(500, "the")), 128);
        assertEquals(128, e.length());
        assertEquals("[SEP]", e.tokens().get(127));
    }

    @Test
    void vocabDuplicateIsAnErrorNamingTheLine(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("vocab.txt");
        Files.write(v, List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[PAD]"));
        var ex = assertThrows(Vocab.VocabException.class, () -> Vocab.read(v));
        assertTrue(ex.getMessage().contains("vocab.txt:5: duplicate token \"[PAD]\""), ex.getMessage());
    }

    @Test
    void vocabIdsAreLineNumbers() throws IOException {
        Vocab v = Vocab.read(TestData.vocab());
        assertEquals(30522, v.size());
        assertEquals(0, v.id("[PAD]"));
        assertEquals(100, v.id("[UNK]"));
        assertEquals(103, v.id("[MASK]"));
        List<String> first = new ArrayList<>(Arrays.asList(v.token(101), v.token(102)));
        assertEquals(List.of("[CLS]", "[SEP]"), first);
    }
}
