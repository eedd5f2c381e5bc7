package dev.convbert.trainer.pretrain;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the bytes of one corpus document into clean text: UTF-8 (BOM removed), with a stated fallback for legacy
 * files, CRLF normalised, and Project Gutenberg's header and licence cut away when present.
 */
public final class CorpusText {
    private static final Pattern START = Pattern.compile("(?m)^\\*\\*\\* ?START OF (THIS|THE) PROJECT GUTENBERG E(BOOK|TEXT).*$");
    private static final Pattern END = Pattern.compile("(?m)^(\\*\\*\\* ?END OF (THIS|THE) PROJECT GUTENBERG E(BOOK|TEXT)|End of (the )?Project Gutenberg'?s?).*$");

    private CorpusText() {}

    /** How a document was decoded. */
    public enum Decoding { UTF8, LATIN1_FALLBACK }

    public record Decoded(String text, Decoding decoding) {}

    /** Strict UTF-8; {@code null} when the bytes are not UTF-8 and no fallback is allowed. */
    public static Decoded decode(byte[] bytes, boolean latin1Fallback) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            return new Decoded(clean(s), Decoding.UTF8);
        } catch (CharacterCodingException e) {
            // the NLTK Gutenberg/inaugural/state-union files that are not UTF-8 are ISO-8859-1
            return latin1Fallback ? new Decoded(clean(new String(bytes, StandardCharsets.ISO_8859_1)), Decoding.LATIN1_FALLBACK) : null;
        }
    }

    static String clean(String s) {
        if (s.startsWith("\uFEFF")) {
            s = s.substring(1);
        }
        s = s.replace("\r\n", "\n").replace('\r', '\n');
        Matcher start = START.matcher(s);
        if (start.find()) {
            s = s.substring(start.end());
        }
        Matcher end = END.matcher(s);
        if (end.find()) {
            s = s.substring(0, end.start());
        }
        return s;
    }
}
