package dev.convbert.core.glue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads GLUE TSV files exactly as the original GLUE processors do: tab-separated, no quote handling (texts contain
 * bare quotes), UTF-8 with an optional BOM (MRPC has one), CRLF tolerated, last line with or without a newline.
 *
 * <p>Every malformed row is an error naming file:line, with one documented exception: QQP rows with too few columns
 * are skipped, because the original processors (GLUE's, HF's {@code QqpProcessor}, ELECTRA's) skip them knowingly;
 * the count of skipped rows is returned in {@link Result#skipped()}.
 */
public final class GlueReader {

    /** The rows read and the number of rows knowingly skipped. */
    public record Result(List<GlueExample> examples, int skipped) {}

    private GlueReader() {}

    public static Path file(Path dataDir, GlueTask task, String split) {
        return dataDir.resolve(task.dirName()).resolve(task.split(split).file());
    }

    /**
     * The split's examples, refusing a split that holds none (an empty or header-only file): scoring it would give an
     * empty submission or a metric of nothing with exit 0. {@link #readFile} still reads such a file (glue-stats counts).
     */
    public static List<GlueExample> read(Path dataDir, GlueTask task, String split) throws IOException {
        Path file = file(dataDir, task, split);
        List<GlueExample> examples = readFile(file, task, task.split(split)).examples();
        if (examples.isEmpty()) {
            throw new GlueFormatException(file, 0, "holds no examples (" + (task.split(split).hasHeader() ? "a header only" : "empty")
                    + "); " + task.glueName() + " " + split + " needs at least one row");
        }
        return examples;
    }

    public static Result readFile(Path file, GlueTask task, GlueTask.Split split) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new GlueFormatException(file, 0, "missing; " + task.glueName() + " " + split.name()
                    + " is expected here in the original GLUE layout (--data-dir points at the folder holding "
                    + task.dirName() + "/)");
        } catch (CharacterCodingException e) {
            throw new GlueFormatException(file, 0, "not valid UTF-8");
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<String> lines = splitLines(text);
        int first = 0;
        int colA = split.textACol();
        int colB = split.textBCol();
        int colLabel = split.labelCol();
        int colIndex = -1;
        int columns = split.columns();
        if (split.hasHeader()) {
            if (lines.isEmpty()) {
                throw new GlueFormatException(file, 1, "empty file; expected a header row");
            }
            List<String> header = List.of(lines.get(0).split("\t", -1));
            columns = header.size();
            colA = column(file, header, split.textA());
            colB = split.textB() == null ? -1 : column(file, header, split.textB());
            colLabel = split.label() == null ? -1 : column(file, header, split.label());
            colIndex = header.indexOf("index") >= 0 ? header.indexOf("index") : header.indexOf("id");
            first = 1;
        }
        List<GlueExample> out = new ArrayList<>(lines.size());
        java.util.Map<String, Integer> seenIndex = new java.util.HashMap<>();
        int skipped = 0;
        for (int i = first; i < lines.size(); i++) {
            int lineNo = i + 1;
            String[] f = lines.get(i).split("\t", -1);
            if (f.length != columns) {
                if (task == GlueTask.QQP && f.length < columns) {
                    skipped++;
                    continue;
                }
                throw new GlueFormatException(file, lineNo, "expected " + columns + " tab-separated columns, found "
                        + f.length + (lines.get(i).isEmpty() ? " (empty line)" : ""));
            }
            String label = colLabel >= 0 ? f[colLabel] : null;
            if (label != null) {
                checkLabel(file, lineNo, task, label);
            }
            String index = colIndex >= 0 ? f[colIndex] : Integer.toString(out.size() + skipped);
            if (colIndex >= 0) {
                // the submission is keyed by these: a duplicate or a non-number would make a file GLUE rejects
                if (!index.matches("\\d{1,18}")) {
                    throw new GlueFormatException(file, lineNo, "index \"" + index + "\" is not a non-negative integer");
                }
                Integer before = seenIndex.putIfAbsent(index, lineNo);
                if (before != null) {
                    throw new GlueFormatException(file, lineNo, "index " + index + " repeats line " + before);
                }
            }
            out.add(new GlueExample(index, f[colA], colB >= 0 ? f[colB] : null, label, lineNo));
        }
        return new Result(out, skipped);
    }

    private static void checkLabel(Path file, int line, GlueTask task, String label) {
        if (task.isRegression()) {
            float v;
            try {
                v = Float.parseFloat(label);
            } catch (NumberFormatException e) {
                throw new GlueFormatException(file, line, "score \"" + label + "\" is not a number");
            }
            if (!(v >= 0f && v <= 5f)) {
                throw new GlueFormatException(file, line, "score " + label + " is outside [0, 5]");
            }
        } else if (!task.labels().contains(label)) {
            throw new GlueFormatException(file, line, "label \"" + label + "\" is not one of " + task.labels());
        }
    }

    private static int column(Path file, List<String> header, String name) {
        int c = header.indexOf(name);
        if (c < 0) {
            throw new GlueFormatException(file, 1, "header has no column \"" + name + "\"; found " + header);
        }
        return c;
    }

    /** Lines without their terminators; a final newline does not start an extra row. */
    private static List<String> splitLines(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        int n = text.length();
        while (start < n) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? n : nl;
            int stop = end > start && text.charAt(end - 1) == '\r' ? end - 1 : end;
            lines.add(text.substring(start, stop));
            start = end + 1;
        }
        return lines;
    }
}
