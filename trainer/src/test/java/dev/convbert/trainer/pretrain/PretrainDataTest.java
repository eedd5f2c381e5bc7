package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PretrainDataTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));

    static BertTokenizer tokenizer() throws IOException {
        return new BertTokenizer(Vocab.read(TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt")));
    }

    @Test
    void exampleBuilderLayoutAndLengths() {
        Random rnd = new Random(3);
        ExampleBuilder b = new ExampleBuilder(32, 101, 102, rnd);
        List<ExampleBuilder.Example> out = new ArrayList<>();
        for (int line = 0; line < 400; line++) {
            int[] sentence = new int[3 + rnd.nextInt(12)];
            java.util.Arrays.fill(sentence, 1000 + line);
            ExampleBuilder.Example e = b.addLine(sentence);
            if (e != null) {
                out.add(e);
            }
        }
        ExampleBuilder.Example last = b.addLine(new int[0]);
        if (last != null) {
            out.add(last);
        }
        int twoSegments = 0;
        for (ExampleBuilder.Example e : out) {
            int[] ids = e.ids();
            assertTrue(ids.length <= 32, "at most max_seq_length: " + ids.length);
            assertEquals(101, ids[0], "[CLS] first");
            assertEquals(102, ids[e.firstSegmentLength() - 1], "segment A ends with [SEP]");
            assertEquals(102, ids[ids.length - 1], "ends with [SEP]");
            for (int i = 1; i < ids.length - 1; i++) {
                if (i != e.firstSegmentLength() - 1) {
                    assertTrue(ids[i] >= 1000, "no special token inside a segment");
                }
            }
            if (e.firstSegmentLength() < ids.length) {
                twoSegments++;
                // the fixed ELECTRA condition: sentences keep their text order, A before B
                assertTrue(ids[1] <= ids[e.firstSegmentLength()], "A precedes B in the text");
            }
        }
        assertTrue(out.size() > 50);
        assertTrue(twoSegments > out.size() / 2, "most examples have two segments with the fixed builder: " + twoSegments + "/" + out.size());
        assertTrue(twoSegments < out.size(), "about 10% are single-segment");
    }

    @Test
    void buildsTheCorpusFixtureAndReportsProblems(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("data");
        JsonNode m = new DataBuilder(tokenizer(), 64, 1, true, 2, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), out);
        assertEquals(5, m.get("documents").asInt(), "tiny-gutenberg, latin1, plain.txt.xz and the two tar members");
        List<String> problems = new ArrayList<>();
        m.get("problems").forEach(p -> problems.add(p.asText()));
        assertTrue(problems.stream().anyMatch(p -> p.contains("broken.txt.xz") && p.contains("unreadable")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("latin1.txt: not UTF-8; decoded as ISO-8859-1")), problems.toString());
        PretrainData data = new PretrainData(out);
        assertEquals(m.get("examples").asInt(), data.size());
        Vocab v = Vocab.read(TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt"));
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < data.size(); i++) {
            for (int id : data.ids(i)) {
                all.append(v.token(id)).append(' ');
            }
        }
        String text = all.toString().replace(" ##", "");
        assertFalse(text.contains("gutenberg"), "Gutenberg header and licence stripped: " + text);
        assertTrue(text.contains("miller"), text);
        assertTrue(text.contains("cafe"), "Latin-1 decoded and accents stripped: " + text);
        assertTrue(text.contains("basil") && text.contains("knead"), "xz and tar.xz documents read");

        String sha = m.get("shards").get(0).get("sha256").asText();
        JsonNode again = new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), out);
        assertTrue(again.get("shards").get(0).get("reused").asBoolean(), "a re-run skips finished shards");
        Path other = dir.resolve("fresh");
        JsonNode fresh = new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), other);
        assertEquals(sha, fresh.get("shards").get(0).get("sha256").asText(), "deterministic for a seed, whatever the threads");
        Path copy = dir.resolve("elsewhere/corpus");
        dev.convbert.core.io.AtomicFiles.copyTree(TESTDATA.resolve("corpus"), copy);
        JsonNode moved = new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(copy, dir.resolve("moved"));
        assertEquals(sha, moved.get("shards").get(0).get("sha256").asText(), "and wherever the corpus lies");
        assertEquals(sha, Hashing.sha256(other.resolve(fresh.get("shards").get(0).get("file").asText())));

        JsonNode skip = new DataBuilder(tokenizer(), 64, 1, false, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), dir.resolve("strict"));
        assertEquals(4, skip.get("documents").asInt(), "without the fallback the Latin-1 file is skipped");
    }

    /** The data carries its vocabulary; another one is refused by content (two swapped tokens), not by size. */
    @Test
    void theVocabularyTravelsWithTheData(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("data");
        JsonNode m = new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), out);
        Path bert = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");
        assertEquals(Hashing.sha256(bert), m.get("vocab_sha256").asText());
        assertEquals(out.resolve("vocab.txt"), PretrainData.vocab(out, null));
        Path same = java.nio.file.Files.copy(bert, dir.resolve("same.txt"));
        assertEquals(out.resolve("vocab.txt"), PretrainData.vocab(out, same));
        List<String> lines = new ArrayList<>(java.nio.file.Files.readAllLines(bert));
        java.util.Collections.swap(lines, 2000, 2001);
        Path swapped = java.nio.file.Files.write(dir.resolve("swapped.txt"), lines);
        var e = assertThrows(dev.convbert.core.InvalidInputException.class, () -> PretrainData.vocab(out, swapped));
        assertTrue(e.getMessage().contains("swapped.txt: is not the vocabulary the data was built with"), e.getMessage());
        // a corpus file that changed (fixed, re-downloaded) is rebuilt, the others are reused
        Path corpus = dir.resolve("corpus");
        dev.convbert.core.io.AtomicFiles.copyTree(TESTDATA.resolve("corpus"), corpus);
        Path data = dir.resolve("fp");
        new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, data);
        java.nio.file.Files.writeString(corpus.resolve("books/latin1.txt"), "A fixed document, now in UTF-8: café.\n");
        JsonNode after = new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, data);
        List<String> rebuilt = new ArrayList<>();
        after.get("shards").forEach(sh -> {
            if (!sh.get("reused").asBoolean()) {
                rebuilt.add(sh.get("inputs").toString());
            }
        });
        assertEquals(1, rebuilt.size(), rebuilt.toString());
        assertTrue(rebuilt.get(0).contains("latin1.txt"), rebuilt.toString());
        after.get("problems").forEach(p -> assertFalse(p.asText().contains("latin1.txt"), "no stale problem: " + p));
        JsonNode unchanged = new DataBuilder(tokenizer(), 64, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, data);
        unchanged.get("shards").forEach(sh -> assertTrue(sh.get("reused").asBoolean(), sh.toString()));
        assertTrue(unchanged.get("problems").toString().contains("broken.txt.xz"), "reused shards keep their problems: "
                + unchanged.get("problems"));
        // a rebuild with other settings reuses nothing
        JsonNode reseeded = new DataBuilder(tokenizer(), 64, 2, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(TESTDATA.resolve("corpus"), out);
        reseeded.get("shards").forEach(sh -> assertFalse(sh.get("reused").asBoolean(), sh.toString()));
    }

    @Test
    void maskingStatistics() {
        Masking masking = new Masking(128, 103, 101, 102, 0);
        assertEquals(19, masking.slots());
        Random rnd = new Random(5);
        int rows = 2000;
        long chosen = 0, masked = 0, expected = 0;
        for (int r = 0; r < rows; r++) {
            int len = 10 + rnd.nextInt(119);
            long[] ids = new long[128];
            ids[0] = 101;
            for (int i = 1; i < len - 1; i++) {
                ids[i] = 2000 + i;
            }
            ids[len - 1] = 102;
            Masking.Masked m = masking.mask(new long[][]{ids}, new int[]{len}, rnd);
            int n = Math.max(1, Math.min(19, (int) Math.round(0.15 * len)));
            expected += n;
            for (int s = 0; s < 19; s++) {
                if (m.weights()[0][s] > 0) {
                    chosen++;
                    int p = (int) m.positions()[0][s];
                    assertTrue(p > 0 && p < len - 1, "never [CLS], [SEP] or padding");
                    assertEquals(ids[p], m.originals()[0][s]);
                    if (m.generatorInput()[0][p] == 103) {
                        masked++;
                    }
                } else {
                    assertTrue(s >= n, "only slots beyond n are unused");
                }
            }
        }
        assertEquals(expected, chosen, "n = round(0.15 · length) slots per row");
        double maskRate = (double) masked / chosen;
        assertTrue(maskRate > 0.78 && maskRate < 0.86, "about 85% of chosen positions become [MASK] (less duplicates): " + maskRate);
    }

}
