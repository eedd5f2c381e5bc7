package dev.convbert.core.glue;

import dev.convbert.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every task's train/dev/test layout on the committed fixtures (official GLUE layouts, a few rows each). */
class GlueReaderTest {
    static final Path GLUE = TestData.path("glue");

    static Stream<Arguments> everySplit() {
        List<Arguments> out = new ArrayList<>();
        for (GlueTask t : GlueTask.values()) {
            for (GlueTask.Split s : t.splits()) {
                out.add(Arguments.of(t, s.name()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everySplit")
    void readsEverySplit(GlueTask task, String split) throws IOException {
        List<GlueExample> rows = GlueReader.read(GLUE, task, split);
        assertTrue(rows.size() >= 3, task + " " + split + " has rows");
        GlueTask.Split s = task.split(split);
        for (GlueExample e : rows) {
            assertTrue(!e.textA().isBlank(), "text_a at line " + e.line());
            assertEquals(s.isPair(), e.textB() != null);
            if (s.hasLabels()) {
                assertNotNull(e.label());
                if (!task.isRegression()) {
                    assertTrue(e.labelId(task) >= 0);
                }
            } else {
                assertNull(e.label());
            }
        }
    }

    @Test
    void exactFieldsOfKnownRows() throws IOException {
        GlueExample cola = GlueReader.read(GLUE, GlueTask.COLA, "dev").get(0);
        assertEquals("The sailors rode the breeze clear of the rocks.", cola.textA());
        assertEquals("1", cola.label());
        assertEquals(1, cola.line());                                // no header in CoLA train/dev

        GlueExample mrpc = GlueReader.read(GLUE, GlueTask.MRPC, "train").get(0);
        assertTrue(mrpc.textA().startsWith("Amrozi accused his brother"), mrpc.textA());  // BOM stripped from the header
        assertEquals("1", mrpc.label());

        GlueExample sts = GlueReader.read(GLUE, GlueTask.STS_B, "train").get(0);
        assertEquals("A plane is taking off.", sts.textA());
        assertEquals("An air plane is taking off.", sts.textB());
        assertEquals(5.0f, sts.regressionTarget());

        GlueExample mnli = GlueReader.read(GLUE, GlueTask.MNLI, "dev_mismatched").get(1);
        assertEquals("No animal is on the mat.", mnli.textB());
        assertEquals("contradiction", mnli.label());

        GlueExample ax = GlueReader.read(GLUE, GlueTask.AX, "test").get(0);
        assertEquals("0", ax.index());

        List<GlueExample> colaTest = GlueReader.read(GLUE, GlueTask.COLA, "test");
        assertEquals("0", colaTest.get(0).index());
        assertEquals(2, colaTest.get(0).line());
    }

    @Test
    void qqpShortRowsAreSkippedAsGlueDoes() throws IOException {
        GlueReader.Result r = GlueReader.readFile(GlueReader.file(GLUE, GlueTask.QQP, "train"), GlueTask.QQP,
                GlueTask.QQP.split("train"));
        assertEquals(4, r.examples().size());
        assertEquals(1, r.skipped());
    }

    @Test
    void malformedRowNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path rte = dir.resolve("RTE");
        Files.createDirectories(rte);
        Files.writeString(rte.resolve("dev.tsv"), "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n",
                StandardCharsets.UTF_8);
        var ex = assertThrows(GlueFormatException.class, () -> GlueReader.read(dir, GlueTask.RTE, "dev"));
        assertTrue(ex.getMessage().endsWith("dev.tsv:3: expected 4 tab-separated columns, found 3"), ex.getMessage());
        assertEquals(3, ex.line());
    }

    @Test
    void unknownLabelAndBadScoreAreErrors(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("SST-2"));
        Files.writeString(dir.resolve("SST-2/train.tsv"), "sentence\tlabel\ngood movie\t1\nbad movie\tnegative\n");
        var ex = assertThrows(GlueFormatException.class, () -> GlueReader.read(dir, GlueTask.SST_2, "train"));
        assertTrue(ex.getMessage().contains("train.tsv:3: label \"negative\" is not one of [0, 1]"), ex.getMessage());

        Files.createDirectories(dir.resolve("STS-B"));
        Files.writeString(dir.resolve("STS-B/dev.tsv"),
                "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                        + "0\tg\tf\t2012\t1\tnone\tnone\ta\tb\t7.5\n");
        ex = assertThrows(GlueFormatException.class, () -> GlueReader.read(dir, GlueTask.STS_B, "dev"));
        assertTrue(ex.getMessage().contains("dev.tsv:2: score 7.5 is outside [0, 5]"), ex.getMessage());
    }

    @Test
    void missingFileAndMissingColumn(@TempDir Path dir) throws IOException {
        var ex = assertThrows(GlueFormatException.class, () -> GlueReader.read(dir, GlueTask.QNLI, "train"));
        assertTrue(ex.getMessage().contains("QNLI/train.tsv: missing"), ex.getMessage());
        Files.createDirectories(dir.resolve("QNLI"));
        Files.writeString(dir.resolve("QNLI/dev.tsv"), "index\tquestion\ttext\tlabel\n");
        ex = assertThrows(GlueFormatException.class, () -> GlueReader.read(dir, GlueTask.QNLI, "dev"));
        assertTrue(ex.getMessage().contains("dev.tsv:1: header has no column \"sentence\""), ex.getMessage());
    }

    @Test
    void crlfAndMissingFinalNewline(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("WNLI"));
        Files.writeString(dir.resolve("WNLI/dev.tsv"), "index\tsentence1\tsentence2\tlabel\r\n0\ta \"quoted\" text\tb\t1\r\n1\tc\td\t0");
        List<GlueExample> rows = GlueReader.read(dir, GlueTask.WNLI, "dev");
        assertEquals(2, rows.size());
        assertEquals("a \"quoted\" text", rows.get(0).textA());   // no quote processing, as GLUE's csv quotechar=None
        assertEquals("0", rows.get(1).label());
    }

    @Test
    void taskIdsParse() {
        assertEquals(GlueTask.SST_2, GlueTask.fromId("sst-2"));
        assertEquals(GlueTask.SST_2, GlueTask.fromId("SST2"));
        assertEquals(GlueTask.STS_B, GlueTask.fromId("STS-B"));
        assertEquals(GlueTask.AX, GlueTask.fromId("ax"));
        assertEquals(GlueTask.MNLI, GlueTask.AX.trainingTask());
        var ex = assertThrows(dev.convbert.core.InvalidInputException.class, () -> GlueTask.fromId("squad"));
        assertTrue(ex.getMessage().contains("unknown task \"squad\""));
    }
}
