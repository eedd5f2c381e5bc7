package dev.convbert.core.glue;

import dev.convbert.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GlueSubmissionTest {
    @Test
    void writesServerFileNamesAndLabelStrings(@TempDir Path dir) throws IOException {
        Path glue = TestData.path("glue");
        List<GlueExample> rte = GlueReader.read(glue, GlueTask.RTE, "test");
        double[] pred = new double[rte.size()];
        pred[1] = 1;
        Path f = GlueSubmission.write(dir, GlueTask.RTE, "test", rte, pred);
        assertEquals("RTE.tsv", f.getFileName().toString());
        List<String> lines = Files.readAllLines(f);
        assertEquals("index\tprediction", lines.get(0));
        assertEquals("0\tentailment", lines.get(1));
        assertEquals("1\tnot_entailment", lines.get(2));
        assertEquals(rte.size() + 1, lines.size());

        List<GlueExample> mm = GlueReader.read(glue, GlueTask.MNLI, "test_mismatched");
        Path m = GlueSubmission.write(dir, GlueTask.MNLI, "test_mismatched", mm, new double[]{2, 0, 1, 0, 0});
        assertEquals("MNLI-mm.tsv", m.getFileName().toString());
        assertEquals("0\tneutral", Files.readAllLines(m).get(1));

        List<GlueExample> sts = GlueReader.read(glue, GlueTask.STS_B, "test");
        double[] scores = new double[sts.size()];
        scores[0] = 5.7;
        scores[1] = -0.2;
        scores[2] = 3.14159;
        List<String> s = Files.readAllLines(GlueSubmission.write(dir, GlueTask.STS_B, "test", sts, scores));
        assertEquals(List.of("0\t5.000", "1\t0.000", "2\t3.142"), s.subList(1, 4));

        List<GlueExample> ax = GlueReader.read(glue, GlueTask.AX, "test");
        assertEquals("AX.tsv", GlueSubmission.write(dir, GlueTask.AX, "test", ax, new double[ax.size()]).getFileName().toString());
    }

    @Test
    void refusesDevSplitsAndBadClasses(@TempDir Path dir) throws IOException {
        List<GlueExample> dev = GlueReader.read(TestData.path("glue"), GlueTask.RTE, "dev");
        assertThrows(IllegalArgumentException.class, () -> GlueSubmission.write(dir, GlueTask.RTE, "dev", dev, new double[dev.size()]));
        List<GlueExample> test = GlueReader.read(TestData.path("glue"), GlueTask.RTE, "test");
        double[] bad = new double[test.size()];
        bad[0] = 2;
        assertThrows(IllegalArgumentException.class, () -> GlueSubmission.write(dir, GlueTask.RTE, "test", test, bad));
    }
}
