package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convbert.core.cli.ConvBertCli;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a corpus can do to build-data: files cut off, edits that keep size and mtime, the output inside the corpus, huge lines. */
class DamagedCorpusTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final Path VOCAB = TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt");
    static final Path OWT = TESTDATA.resolve("openwebtext-sample/openwebtext/urlsf_subset00-1_data.xz");

    /** Documents and problems, in the order the reader delivers them. */
    static final class Collected implements CorpusReader.Sink {
        final List<byte[]> documents = new ArrayList<>();
        final List<String> problems = new ArrayList<>();

        @Override
        public void document(String name, byte[] bytes) {
            documents.add(bytes);
        }

        @Override
        public boolean archive(String name, byte[] bytes) {
            return false;
        }

        @Override
        public void problem(String message) {
            problems.add(message);
        }
    }

    static Collected read(byte[] file) throws IOException {
        Collected c = new Collected();
        new CorpusReader(DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES, 1L << 30).read("f", () -> new ByteArrayInputStream(file), 0, c);
        return c;
    }

    /**
     * An OpenWebText archive (one xz block of 25 documents, 68 KB) cut at 50,000 bytes: `xz -dc` still yields 174,602
     * bytes of it, 18 whole documents; the xz decoder alone gives nothing of the chunk the cut falls in.
     */
    @Test
    void aTruncatedXzKeepsTheDocumentsBeforeTheCut() throws Exception {
        byte[] whole = Files.readAllBytes(OWT);
        Collected all = read(whole);
        assertEquals(25, all.documents.size(), all.problems.toString());

        Collected cut = read(Arrays.copyOf(whole, 50_000));
        assertTrue(cut.documents.size() >= 17 && cut.documents.size() < 25, cut.documents.size() + " kept: " + cut.problems);
        for (int i = 0; i < cut.documents.size(); i++) {
            assertArrayEquals(all.documents.get(i), cut.documents.get(i), "document " + i + " is intact");
        }
        assertEquals(1, cut.problems.size(), cut.problems.toString());
        assertTrue(cut.problems.get(0).contains("truncated at byte 50000 of the file")
                && cut.problems.get(0).contains(cut.documents.size() + " documents before the damage kept"), cut.problems.get(0));
    }

    @Test
    void aTruncatedGzipKeepsTheDocumentsBeforeTheCut() throws Exception {
        byte[] tar;
        try (XZInputStream in = new XZInputStream(Files.newInputStream(OWT))) {
            tar = in.readAllBytes();
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(tar);
        }
        byte[] whole = gz.toByteArray();
        Collected all = read(whole);
        Collected cut = read(Arrays.copyOf(whole, whole.length * 2 / 3));
        assertTrue(cut.documents.size() >= 10 && cut.documents.size() < all.documents.size(), cut.documents.size() + " kept");
        for (int i = 0; i < cut.documents.size(); i++) {
            assertArrayEquals(all.documents.get(i), cut.documents.get(i), "document " + i + " is intact");
        }
        assertTrue(cut.problems.get(0).contains("truncated at byte"), cut.problems.toString());
    }

    /** A single-document xz cut anywhere has lost part of that document: nothing of it is kept. */
    @Test
    void aTruncatedSingleDocumentIsSkippedNotKeptInPart() throws Exception {
        byte[] whole = Files.readAllBytes(TESTDATA.resolve("corpus/books/plain.txt.xz"));
        Collected cut = read(Arrays.copyOf(whole, whole.length - 20));
        assertEquals(0, cut.documents.size());
        assertTrue(cut.problems.get(0).contains("ends early"), cut.problems.toString());
    }

    /** An edit that keeps size and mtime (cp -p, rsync -t) rebuilds its shard: a re-run equals a build from scratch. */
    @Test
    void anEditThatKeepsSizeAndMtimeRebuildsTheShard(@TempDir Path dir) throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Path doc = corpus.resolve("a.txt");
        Files.writeString(doc, "The river ran quietly past the old mill.\nThe miller watched it every morning.\n");
        FileTime mtime = Files.getLastModifiedTime(doc);
        DataBuilder builder = builder(64);
        builder.build(corpus, dir.resolve("data"));

        Files.writeString(doc, "The river ran swiftly past the old mill.\nThe miller watched it every morning.\n");
        Files.setLastModifiedTime(doc, mtime);
        JsonNode rerun = builder.build(corpus, dir.resolve("data"));
        JsonNode fresh = builder.build(corpus, dir.resolve("fresh"));
        assertEquals(fresh.get("shards").get(0).get("sha256"), rerun.get("shards").get(0).get("sha256"));
        assertEquals(false, rerun.get("shards").get(0).get("reused").asBoolean());
    }

    @Test
    void anOutputInsideTheCorpusIsRefused(@TempDir Path dir) throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("a.txt"), "The river ran quietly past the old mill.\n");
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute("build-data",
                "--corpus", corpus.toString(), "--vocab", VOCAB.toString(), "--output", corpus.resolve("data").toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("is inside --corpus " + corpus), err.toString());
        assertTrue(Files.notExists(corpus.resolve("data")), "nothing written into the corpus");
    }

    /** A document that is one huge line keeps one example; the tokens cut are counted and the document named. */
    @Test
    void linesLongerThanAnExampleAreCountedAndAMostlyLostDocumentIsNamed(@TempDir Path dir) throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("one-line.txt"), "the river ran past the mill ".repeat(2_000) + "\n");
        Files.writeString(corpus.resolve("normal.txt"), "The river ran quietly past the old mill.\nThe miller watched it.\n");
        Files.writeString(corpus.resolve("huge.txt"), "the mill ".repeat(20_000));
        JsonNode m = new DataBuilder(new BertTokenizer(Vocab.read(VOCAB)), 64, 1, true, 1, 100_000)
                .build(corpus, dir.resolve("data"));
        JsonNode cut = m.get("cut");
        assertEquals(1, cut.get("documents_over_max_document_bytes").asInt(), m.toString());
        assertEquals(1, cut.get("documents_with_lines_over_max_seq_length").asInt(), m.toString());
        assertEquals(12_000 - 62, cut.get("tokens_cut_from_long_lines").asLong(), m.toString());
        String problems = m.get("problems").toString();
        assertTrue(problems.contains("one-line.txt: 11938 of its 12000 tokens are in lines longer than an example"), problems);
        assertNotEquals(-1, problems.indexOf("huge.txt: document over 100000 bytes"), problems);
    }

    static DataBuilder builder(int maxLength) throws IOException {
        return new DataBuilder(new BertTokenizer(Vocab.read(VOCAB)), maxLength, 1, true, 1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES);
    }
}
