package dev.convbert.core.cli;

import dev.convbert.core.io.Progress;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.TextPair;
import dev.convbert.core.tokenize.Vocab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code convbert tokenize}: JSONL texts in, BERT WordPiece ids out, one line per line. */
@Command(name = "tokenize",
        description = "Tokenize JSONL lines {\"text_a\": …, \"text_b\": …} with a BERT WordPiece vocabulary. Each output "
                + "line: {\"input_ids\": […], \"token_type_ids\": […], \"tokens\": […]}.",
        footer = "  convbert tokenize --vocab vocab.txt --input in.jsonl --output out.jsonl --max-length 128")
public final class TokenizeCommand implements Callable<Integer> {
    private static final Set<String> FIELDS = Set.of("text_a", "text_b");

    @Option(names = "--vocab", required = true, description = "vocab.txt (one token per line).")
    Path vocab;

    @Option(names = "--input", required = true, description = "JSON lines, each {\"text_a\": …} or {\"text_a\": …, \"text_b\": …}.")
    Path input;

    @Option(names = "--output", required = true, description = "Output JSONL (written atomically).")
    Path output;

    @Option(names = "--max-length", defaultValue = "128", description = "Truncate longest-first to this many tokens (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Override
    public Integer call() throws IOException {
        dev.convbert.core.io.OutputPaths.requireNotAnInput("--output", output, input, vocab);
        BertTokenizer tokenizer = new BertTokenizer(Vocab.read(vocab));
        ObjectMapper json = new ObjectMapper();
        long bytes = Files.size(input);
        long[] lines = {0, 0};
        long start = System.nanoTime();
        AtomicFiles.write(output, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            try (BufferedReader r = Files.newBufferedReader(input, StandardCharsets.UTF_8);
                 Progress progress = Progress.start("tokenize", bytes, "B")) {
                String line;
                while ((line = readLine(r, lines[0] + 1)) != null) {
                    lines[0]++;
                    progress.step(line.getBytes(StandardCharsets.UTF_8).length + 1L);
                    if (line.isBlank()) {
                        continue;
                    }
                    Encoding e = encodeLine(tokenizer, json, line, lines[0]);
                    lines[1] += e.length();
                    ObjectNode o = json.createObjectNode();
                    var ids = o.putArray("input_ids");
                    for (int id : e.inputIds()) ids.add(id);
                    var types = o.putArray("token_type_ids");
                    for (int t : e.tokenTypeIds()) types.add(t);
                    var toks = o.putArray("tokens");
                    e.tokens().forEach(toks::add);
                    w.write(json.writeValueAsString(o));
                    w.write('\n');
                }
            }
            w.flush();
        });
        double secs = (System.nanoTime() - start) / 1e9;
        System.err.printf("tokenized %d lines, %d tokens in %.2f s (%.0f tokens/s) -> %s%n",
                lines[0], lines[1], secs, lines[1] / Math.max(secs, 1e-9), output);
        return ExitCodes.OK;
    }

    private Encoding encodeLine(BertTokenizer tokenizer, ObjectMapper json, String line, long lineNo) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(input + ":" + lineNo + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new InvalidInputException(input + ":" + lineNo + ": expected a JSON object {\"text_a\": …, \"text_b\": …}");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new InvalidInputException(input + ":" + lineNo + ": unknown field \"" + f + "\"; expected text_a and optionally text_b");
            }
        }
        return TextPair.parse(node, input + ":" + lineNo).encode(tokenizer, maxLength);
    }

    /** The next line, or an error naming the file and line when the bytes are not UTF-8. */
    private String readLine(BufferedReader r, long lineNo) throws IOException {
        try {
            return r.readLine();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new InvalidInputException(input + ":" + lineNo + ": not valid UTF-8; convert the file to UTF-8 first");
        }
    }
}
