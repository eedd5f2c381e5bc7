package dev.convbert.trainer.pretrain;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Streams the documents of one corpus file, whatever its layout, by content rather than by name: xz or gzip
 * compression is recognised by its magic bytes, a tar by its {@code ustar} header, and anything else is one plain-text
 * document. A tar's {@code .txt} members are documents; members that are themselves archives (OpenWebText's
 * {@code openwebtext.tar.xz} holds {@code urlsf_subsetNN-M_data.xz}, each an xz-compressed tar of {@code .txt}) are
 * handed to {@link Sink#archive} whole, or read in place below the top level.
 *
 * <p>Nothing larger than the caps is ever loaded: a tar member's size is known before its bytes, and a compressed
 * stream is read at most one byte past the cap before it is reported and skipped.
 *
 * <p>A compressed file that ends early (a copy cut off, a download that stopped) keeps the documents before the damage:
 * gzip decodes as it streams, and a truncated xz is read again through {@link TruncatedXz}, which recovers what the
 * chunk the cut fell in holds. The document the cut falls in is skipped, never kept partly; the report names the file
 * and the byte at which its data stops.
 */
final class CorpusReader {
    /** Deeper nesting than OpenWebText's (tar → xz → tar → txt) is refused, so a crafted file cannot recurse forever. */
    static final int MAX_DEPTH = 4;
    private static final byte[] XZ_MAGIC = {(byte) 0xFD, '7', 'z', 'X', 'Z', 0};
    private static final int TAR_MAGIC_AT = 257;

    /** Where documents, nested archives and problems go, in the file's order. */
    /** Opens a file's bytes from the start, as often as asked (a truncated xz is read twice more). */
    interface Source {
        InputStream open() throws IOException;
    }

    interface Sink {
        void document(String name, byte[] bytes);

        /**
         * A whole archive found inside a tar at the top level, e.g. to build it as a shard of its own; {@code false}
         * reads it in place instead.
         */
        boolean archive(String name, byte[] bytes);

        void problem(String message);

        /** A document skipped for its size (also a problem). */
        default void oversized(String message) {
            problem(message);
        }
    }

    private final long maxDocumentBytes;
    private final long maxArchiveBytes;

    CorpusReader(long maxDocumentBytes, long maxArchiveBytes) {
        this.maxDocumentBytes = maxDocumentBytes;
        this.maxArchiveBytes = maxArchiveBytes;
    }

    /**
     * Reads the file {@code name}; {@code depth} 0 is a file of the corpus tree. A damaged file reports its damage and
     * keeps what was read before it; a file that cannot be opened propagates.
     */
    void read(String name, Source source, int depth, Sink sink) throws IOException {
        if (depth > MAX_DEPTH) {
            sink.problem(name + ": archives nested more than " + MAX_DEPTH + " deep; skipped");
            return;
        }
        Counting counted = new Counting(sink);
        long[] compressedBytes = {0};
        boolean xz;
        try (InputStream raw = source.open()) {
            BufferedInputStream in = new BufferedInputStream(new java.io.FilterInputStream(raw) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    compressedBytes[0] += Math.max(n, 0);
                    return n;
                }
            }, 1 << 16);
            xz = startsWith(in, XZ_MAGIC);
            try {
                readDecoded(name, decompressed(in), depth, counted, false);
                return;
            } catch (java.io.EOFException e) {
                if (!xz) {
                    sink.problem(name + ": compressed data ends early (truncated at byte " + compressedBytes[0] + " of the file); "
                            + counted.documents + " documents before the damage kept, the one it cut skipped");
                    return;
                }
            } catch (IOException | RuntimeException e) {
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                sink.problem(counted.documents == 0 ? name + ": unreadable (" + why + "); skipped"
                        : name + ": damaged after " + counted.documents + " documents, near byte " + compressedBytes[0]
                        + " of the file (" + why + "); the documents before it kept, the rest skipped");
                return;
            }
        }
        // a truncated xz: read again what its last chunk holds, skipping what the first reading already delivered
        Counting again = new Counting(new Skipping(sink, counted.events, counted.taken));
        try (TruncatedXz prefix = new TruncatedXz(source)) {
            try {
                readDecoded(name, prefix, depth, again, true);
            } catch (IOException | RuntimeException e) {
                // the end of what survived, inside the document it cut
            }
            sink.problem(name + ": xz data ends early (truncated at byte " + compressedBytes[0] + " of the file, "
                    + prefix.agreedBytes() + " bytes decoded before the cut); " + again.documents
                    + " documents before the damage kept, the one it cut skipped");
        }
    }

    /** {@code cut}: the stream ends where the file was damaged, so a whole-stream document is incomplete. */
    private void readDecoded(String name, InputStream s, int depth, Sink sink, boolean cut) throws IOException {
        if (!s.markSupported()) {
            s = new BufferedInputStream(s, 1 << 16);
        }
        s.mark(512);
        byte[] head = s.readNBytes(512);
        s.reset();
        if (isTar(head)) {
            readTar(name, s, depth, sink);
            return;
        }
        byte[] bytes = s.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxDocumentBytes + 1));
        if (bytes.length > maxDocumentBytes) {
            sink.oversized(name + ": document over " + maxDocumentBytes + " bytes (--max-document-bytes); skipped");
            return;
        }
        if (cut) {
            return;   // a whole-file document that the cut fell in: incomplete, whatever its bytes
        }
        sink.document(name, bytes);
    }

    private void readTar(String name, InputStream s, int depth, Sink sink) throws IOException {
        TarArchiveInputStream tar = new TarArchiveInputStream(s);
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
            if (!e.isFile()) {
                continue;
            }
            String member = name + "!" + e.getName();
            boolean text = e.getName().endsWith(".txt");
            long cap = text ? maxDocumentBytes : maxArchiveBytes;
            if (e.getSize() > cap) {
                String message = member + ": " + e.getSize() + " bytes, over the " + (text ? "document" : "archive")
                        + " cap of " + cap + "; skipped";
                if (text) {
                    sink.oversized(message);
                } else {
                    sink.problem(message);
                }
                continue;
            }
            byte[] bytes = tar.readNBytes((int) e.getSize());
            if (bytes.length < e.getSize()) {
                throw new java.io.EOFException(member + ": the archive ends inside this member");
            }
            if (text) {
                sink.document(member, bytes);
            } else if (isCompressedOrTar(bytes)) {
                if (depth > 0 || !sink.archive(member, bytes)) {
                    read(member, () -> new ByteArrayInputStream(bytes), depth + 1, sink);
                }
            } else {
                sink.problem(member + ": neither a .txt document nor an archive; skipped");
            }
        }
    }

    private static boolean startsWith(BufferedInputStream in, byte[] magic) throws IOException {
        in.mark(magic.length);
        byte[] head = in.readNBytes(magic.length);
        in.reset();
        return Arrays.equals(head, magic);
    }

    /** Counts what reaches a sink: every event, in order, the documents among them, and which archives it took. */
    private static final class Counting implements Sink {
        private final Sink to;
        final java.util.List<Boolean> taken = new java.util.ArrayList<>();
        int events;
        int documents;

        Counting(Sink to) {
            this.to = to;
        }

        @Override
        public void document(String name, byte[] bytes) {
            events++;
            documents++;
            to.document(name, bytes);
        }

        @Override
        public boolean archive(String name, byte[] bytes) {
            events++;
            boolean took = to.archive(name, bytes);
            taken.add(took);
            return took;
        }

        @Override
        public void problem(String message) {
            events++;
            to.problem(message);
        }

        @Override
        public void oversized(String message) {
            events++;
            to.oversized(message);
        }
    }

    /**
     * Passes on what follows the first {@code skip} events: a second reading of a file's start delivers the same events
     * as the first, which its sink already has. A skipped archive is answered as the sink answered it the first time,
     * so an archive it declined is read in place again and its events are skipped in turn.
     */
    private static final class Skipping implements Sink {
        private final Sink to;
        private final java.util.Iterator<Boolean> taken;
        private int skip;

        Skipping(Sink to, int skip, java.util.List<Boolean> taken) {
            this.to = to;
            this.skip = skip;
            this.taken = taken.iterator();
        }

        @Override
        public void document(String name, byte[] bytes) {
            if (skip-- <= 0) {
                to.document(name, bytes);
            }
        }

        @Override
        public boolean archive(String name, byte[] bytes) {
            return skip-- <= 0 ? to.archive(name, bytes) : taken.next();
        }

        @Override
        public void problem(String message) {
            if (skip-- <= 0) {
                to.problem(message);
            }
        }

        @Override
        public void oversized(String message) {
            if (skip-- <= 0) {
                to.oversized(message);
            }
        }
    }

    /** The stream, decompressed when it starts with the xz or gzip magic; it supports mark/reset. */
    private static InputStream decompressed(BufferedInputStream in) throws IOException {
        in.mark(8);
        byte[] magic = in.readNBytes(6);
        in.reset();
        if (Arrays.equals(magic, XZ_MAGIC)) {
            return new BufferedInputStream(new XZInputStream(in), 1 << 16);
        }
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in), 1 << 16);
        }
        return in;
    }

    static boolean isTar(byte[] head) {
        return head.length >= TAR_MAGIC_AT + 5
                && new String(head, TAR_MAGIC_AT, 5, StandardCharsets.US_ASCII).equals("ustar");
    }

    private static boolean isCompressedOrTar(byte[] b) {
        return (b.length >= 6 && Arrays.equals(Arrays.copyOf(b, 6), XZ_MAGIC))
                || (b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b)
                || isTar(b);
    }
}
