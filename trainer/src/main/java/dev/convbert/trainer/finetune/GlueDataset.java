package dev.convbert.trainer.finetune;

import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.predict.BatchRunner;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One GLUE split, tokenised once: encodings and labels (class index, or score for STS-B). */
public record GlueDataset(GlueTask task, String split, List<GlueExample> rows, List<Encoding> encodings, double[] labels) {

    /**
     * @param maxExamples keep the first n rows (0 = all), for smoke runs
     * @param doubleUnordered add each pair again with its sentences swapped (the original recipe for MRPC and STS-B)
     */
    public static GlueDataset load(Path dataDir, GlueTask task, String split, BertTokenizer tokenizer, int maxLength,
                                   int maxExamples, boolean doubleUnordered) throws IOException {
        List<GlueExample> rows = GlueReader.read(dataDir, task, split);
        if (maxExamples > 0 && rows.size() > maxExamples) {
            rows = rows.subList(0, maxExamples);
        }
        if (doubleUnordered) {
            List<GlueExample> doubled = new ArrayList<>(rows);
            for (GlueExample e : rows) {
                doubled.add(new GlueExample(e.index(), e.textB(), e.textA(), e.label(), e.line()));
            }
            rows = doubled;
        }
        List<Encoding> enc = BatchRunner.encode(tokenizer, rows, maxLength);
        return new GlueDataset(task, split, List.copyOf(rows), enc, BatchRunner.gold(task, rows));
    }

    public int size() {
        return encodings.size();
    }
}
