package dev.convbert.core.tokenize;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A WordPiece vocabulary ({@code vocab.txt}: one token per line, id = line number - 1). */
public final class Vocab {
    public static final String PAD = "[PAD]";
    public static final String UNK = "[UNK]";
    public static final String CLS = "[CLS]";
    public static final String SEP = "[SEP]";
    public static final String MASK = "[MASK]";

    private final Map<String, Integer> ids;
    private final List<String> tokens;
    private final Path source;

    private Vocab(List<String> tokens, Map<String, Integer> ids, Path source) {
        this.tokens = tokens;
        this.ids = ids;
        this.source = source;
    }

    public static Vocab read(Path file) throws IOException {
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
        try (BufferedReader r = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file), decoder))) {
            String line;
            while ((line = r.readLine()) != null) {
                int lineNo = tokens.size() + 1;
                if (line.isEmpty()) {
                    throw new VocabException(file + ":" + lineNo + ": empty token; every line of vocab.txt must hold one token");
                }
                Integer prev = ids.putIfAbsent(line, tokens.size());
                if (prev != null) {
                    throw new VocabException(file + ":" + lineNo + ": duplicate token \"" + line + "\" (first on line " + (prev + 1) + ")");
                }
                tokens.add(line);
            }
        } catch (CharacterCodingException e) {
            throw new VocabException(file + ":" + (tokens.size() + 1) + ": not valid UTF-8");
        }
        for (String special : List.of(UNK, CLS, SEP)) {
            if (!ids.containsKey(special)) {
                throw new VocabException(file + ": missing special token " + special + "; expected a BERT WordPiece vocabulary");
            }
        }
        return new Vocab(List.copyOf(tokens), Map.copyOf(ids), file);
    }

    public int size() {
        return tokens.size();
    }

    /** The id of {@code token}, or -1. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    public boolean contains(String token) {
        return ids.containsKey(token);
    }

    public String token(int id) {
        return tokens.get(id);
    }

    public int unkId() {
        return ids.get(UNK);
    }

    public int clsId() {
        return ids.get(CLS);
    }

    public int sepId() {
        return ids.get(SEP);
    }

    public int padId() {
        return ids.getOrDefault(PAD, 0);
    }

    public int maskId() {
        Integer id = ids.get(MASK);
        if (id == null) {
            throw new VocabException(source + ": no " + MASK + " token; pre-training needs one");
        }
        return id;
    }

    public Path source() {
        return source;
    }

    /** A bad vocabulary file; the message names the file and line. */
    public static class VocabException extends dev.convbert.core.InvalidInputException {
        public VocabException(String message) {
            super(message);
        }
    }
}
