package dev.convbert.core.tokenize;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * BERT's uncased WordPiece tokenizer, written to agree id for id with HuggingFace's ({@code BertNormalizer} +
 * {@code BertPreTokenizer} + {@code WordPiece}, as in bert-base-uncased's tokenizer.json).
 *
 * <p>Steps, in HF's order: special tokens found verbatim in the text stay whole; clean text (drop NUL, U+FFFD and
 * Unicode "other" characters, map whitespace to a space); put spaces around CJK ideographs; NFD and drop non-spacing
 * marks (accents); lower-case each code point; split on whitespace and punctuation; greedy longest-match WordPiece
 * with {@code ##} continuations, a word longer than 100 code points or with no cover becoming {@code [UNK]}.
 *
 * <p>Pair truncation is BERT's own longest-first: drop one token at a time from the end of the longer segment (from
 * {@code b} on ties), which is what the original ConvBERT/ELECTRA code and HF's Python tokenizer do. (HF's Rust
 * tokenizer splits the budget arithmetically and differs by one token when {@code b} is longer and the budget odd.)
 *
 * <p>Thread-safe and allocation-light; it is our implementation rather than the HF Rust binding because
 * {@code core} is used by the runtime, which must not depend on DJL (see docs/TOKENIZER.md for the measurement).
 */
public final class BertTokenizer {
    public static final int MAX_INPUT_CHARS_PER_WORD = 100;
    private static final List<String> SPECIAL = List.of(Vocab.PAD, Vocab.UNK, Vocab.CLS, Vocab.SEP, Vocab.MASK);

    private final Vocab vocab;
    private final List<String> specials;

    public BertTokenizer(Vocab vocab) {
        this.vocab = vocab;
        this.specials = SPECIAL.stream().filter(vocab::contains).toList();
    }

    public Vocab vocab() {
        return vocab;
    }

    /** Word pieces of {@code text}, without special tokens added. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int bestAt = -1;
            String best = null;
            for (String s : specials) {
                int at = text.indexOf(s, start);
                if (at >= 0 && (bestAt < 0 || at < bestAt)) {
                    bestAt = at;
                    best = s;
                }
            }
            if (best == null) {
                tokenizeNormal(text.substring(start), out);
                break;
            }
            tokenizeNormal(text.substring(start, bestAt), out);
            out.add(best);
            start = bestAt + best.length();
        }
        return out;
    }

    private void tokenizeNormal(String text, List<String> out) {
        if (text.isEmpty()) {
            return;
        }
        for (String word : splitWords(normalize(text))) {
            wordPiece(word, out);
        }
    }

    /** Clean text, CJK spacing, accent stripping and lower-casing, in that order (HF BertNormalizer). */
    static String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 8);
        boolean ascii = true;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                continue;
            }
            if (isWhitespace(cp)) {
                sb.append(' ');
            } else if (isCjk(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
                ascii &= cp < 0x80;
            }
        }
        if (ascii) {
            return sb.toString().toLowerCase(Locale.ROOT);
        }
        String nfd = Normalizer.normalize(sb, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(nfd.length());
        for (int i = 0; i < nfd.length(); ) {
            int cp = nfd.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) == Character.NON_SPACING_MARK) {
                continue;
            }
            if (cp < 0x80) {
                out.append((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
            } else {
                // per code point, like Rust's char::to_lowercase (no context-dependent final sigma)
                out.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT));
            }
        }
        return out.toString();
    }

    /** Whitespace-separated words with every punctuation character on its own (HF BertPreTokenizer). */
    static List<String> splitWords(String text) {
        List<String> words = new ArrayList<>();
        int wordStart = -1;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (isWhitespace(cp)) {
                if (wordStart >= 0) {
                    words.add(text.substring(wordStart, i));
                    wordStart = -1;
                }
            } else if (isPunctuation(cp)) {
                if (wordStart >= 0) {
                    words.add(text.substring(wordStart, i));
                    wordStart = -1;
                }
                words.add(text.substring(i, next));
            } else if (wordStart < 0) {
                wordStart = i;
            }
            i = next;
        }
        if (wordStart >= 0) {
            words.add(text.substring(wordStart));
        }
        return words;
    }

    private void wordPiece(String word, List<String> out) {
        if (word.codePointCount(0, word.length()) > MAX_INPUT_CHARS_PER_WORD) {
            out.add(Vocab.UNK);
            return;
        }
        int mark = out.size();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            String piece = null;
            while (start < end) {
                String sub = start > 0 ? "##" + word.substring(start, end) : word.substring(start, end);
                if (vocab.contains(sub)) {
                    piece = sub;
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (piece == null) {
                out.subList(mark, out.size()).clear();
                out.add(Vocab.UNK);
                return;
            }
            out.add(piece);
            start = end;
        }
    }

    /** {@code [CLS] a [SEP]}, truncated to {@code maxLength} tokens. */
    public Encoding encode(String a, int maxLength) {
        return encode(a, null, maxLength);
    }

    /** {@code [CLS] a [SEP] b [SEP]} ({@code b == null}: single segment), truncated longest-first to {@code maxLength}. */
    public Encoding encode(String a, String b, int maxLength) {
        List<String> ta = tokenize(a);
        List<String> tb = b == null ? null : tokenize(b);
        int special = tb == null ? 2 : 3;
        if (maxLength < special) {
            throw new dev.convbert.core.InvalidInputException("max length " + maxLength + " leaves no room for " + special + " special tokens");
        }
        truncateLongestFirst(ta, tb == null ? new ArrayList<>() : tb, maxLength - special);
        List<String> tokens = new ArrayList<>(ta.size() + (tb == null ? 0 : tb.size()) + special);
        tokens.add(Vocab.CLS);
        tokens.addAll(ta);
        tokens.add(Vocab.SEP);
        int firstSegment = tokens.size();
        if (tb != null) {
            tokens.addAll(tb);
            tokens.add(Vocab.SEP);
        }
        int[] ids = new int[tokens.size()];
        int[] types = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            String t = tokens.get(i);
            int id = vocab.id(t);
            ids[i] = id >= 0 ? id : vocab.unkId();
            types[i] = i < firstSegment ? 0 : 1;
        }
        return new Encoding(ids, types, List.copyOf(tokens));
    }

    /** BERT's {@code _truncate_seq_pair}: pop from the longer list (from {@code b} on ties) until they fit. */
    static void truncateLongestFirst(List<String> a, List<String> b, int budget) {
        while (a.size() + b.size() > budget) {
            if (a.size() > b.size()) {
                a.remove(a.size() - 1);
            } else {
                b.remove(b.size() - 1);
            }
        }
    }

    // ---- character classes, as HF's Rust normalizer defines them ----

    /** Rust's {@code char::is_whitespace} (Unicode White_Space) plus tab, newline and carriage return. */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Unicode "other" (Cc, Cf, Cs, Co, Cn) except tab, newline and carriage return, which count as whitespace. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.PRIVATE_USE || type == Character.UNASSIGNED;
    }

    /** ASCII punctuation (including $+<=>^`|~) or any Unicode P* character. */
    static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The CJK Unified Ideograph blocks BERT treats as one-character words. */
    static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
