package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * build-data on the corpus as OpenWebText ships it: {@code openwebtext/urlsf_subsetNN-M_data.xz} files (xz-compressed
 * tars without ".tar" in the name), and {@code openwebtext.tar.xz}, a tar of those, whose members become shards.
 */
class OpenWebTextLayoutTest {
    static final Path TESTDATA = Path.of(System.getProperty("convbert.testdata", "../testdata"));
    static final Path OWT = TESTDATA.resolve("openwebtext-sample");

    static DataBuilder builder(int threads, long maxDocumentBytes) throws IOException {
        return new DataBuilder(new BertTokenizer(Vocab.read(TESTDATA.resolve("vocab/bert-base-uncased-vocab.txt"))), 64, 1,
                true, threads, maxDocumentBytes);
    }

    @Test
    void unpackedLayoutBuildsEveryDocument(@TempDir Path dir) throws Exception {
        JsonNode m = builder(2, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(OWT, dir.resolve("data"));
        assertEquals(100, m.get("documents").asInt());
        assertEquals(4, m.get("shards").size(), "one shard per _data.xz archive");
        // five of the sample's documents are Latin-1, as the State of the Union source files are: decoded and noted
        m.get("problems").forEach(p -> assertTrue(p.asText().endsWith("not UTF-8; decoded as ISO-8859-1"), p.asText()));
        assertEquals(m.get("examples").asInt(), new PretrainData(dir.resolve("data")).size());
    }

    @Test
    void theReleaseTarballItselfBuildsAShardPerMember(@TempDir Path dir) throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        List<Path> members;
        try (var s = Files.list(OWT.resolve("openwebtext"))) {
            members = s.sorted().toList();
        }
        try (OutputStream out = Files.newOutputStream(corpus.resolve("openwebtext.tar.xz"));
             XZOutputStream xz = new XZOutputStream(out, new LZMA2Options(1));
             TarArchiveOutputStream tar = new TarArchiveOutputStream(xz)) {
            for (Path p : members) {
                TarArchiveEntry e = new TarArchiveEntry("openwebtext/" + p.getFileName());
                e.setSize(Files.size(p));
                tar.putArchiveEntry(e);
                Files.copy(p, tar);
                tar.closeArchiveEntry();
            }
        }
        // one thread: the tar's reader must build members itself when the pool cannot take them
        JsonNode one = builder(1, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, dir.resolve("one"));
        JsonNode two = builder(2, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, dir.resolve("two"));
        assertEquals(100, one.get("documents").asInt());
        List<String> files = new ArrayList<>();
        one.get("shards").forEach(s -> files.add(s.get("file").asText()));
        assertEquals(List.of("shard-00000-00000.bin", "shard-00000-00001.bin", "shard-00000-00002.bin",
                "shard-00000-00003.bin", "shard-00000.bin"), files);
        assertTrue(one.get("shards").get(1).get("inputs").get(0).asText()
                .equals("openwebtext.tar.xz!openwebtext/urlsf_subset00-2_data.xz"), one.get("shards").get(1).toString());
        for (int i = 0; i < files.size(); i++) {
            assertEquals(one.get("shards").get(i).get("sha256"), two.get("shards").get(i).get("sha256"), "same output, any thread count");
        }
        JsonNode again = builder(2, DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, dir.resolve("one"));
        assertTrue(again.get("shards").get(0).get("reused").asBoolean(), "a re-run reuses the members' shards");
        assertEquals(5, again.get("shards").size(), "and still lists them all");
    }

    @Test
    void oversizedDocumentsAreReportedAndSkipped(@TempDir Path dir) throws Exception {
        JsonNode m = builder(2, 4000).build(OWT, dir.resolve("data"));
        List<String> problems = new ArrayList<>();
        m.get("problems").forEach(p -> problems.add(p.asText()));
        long over = problems.stream().filter(p -> p.contains("bytes, over the document cap of 4000; skipped")).count();
        assertTrue(over > 0 && m.get("documents").asInt() > 0);
        assertEquals(100, m.get("documents").asInt() + over);
    }
}
