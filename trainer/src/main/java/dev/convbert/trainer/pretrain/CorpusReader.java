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
 */
final class CorpusReader {
    /** Deeper nesting than OpenWebText's (tar → xz → tar → txt) is refused, so a crafted file cannot recurse forever. */
    static final int MAX_DEPTH = 4;
    private static final byte[] XZ_MAGIC = {(byte) 0xFD, '7', 'z', 'X', 'Z', 0};
    private static final int TAR_MAGIC_AT = 257;

    /** Where documents, nested archives and problems go, in the file's order. */
    interface Sink {
        void document(String name, byte[] bytes);

        /**
         * A whole archive found inside a tar at the top level, e.g. to build it as a shard of its own; {@code false}
         * reads it in place instead.
         */
        boolean archive(String name, byte[] bytes);

        void problem(String message);
    }

    private final long maxDocumentBytes;
    private final long maxArchiveBytes;

    CorpusReader(long maxDocumentBytes, long maxArchiveBytes) {
        this.maxDocumentBytes = maxDocumentBytes;
        this.maxArchiveBytes = maxArchiveBytes;
    }

    /** Reads {@code in} (closed by the caller) named {@code name}; {@code depth} 0 is a file of the corpus tree. */
    void read(String name, InputStream in, int depth, Sink sink) throws IOException {
        if (depth > MAX_DEPTH) {
            sink.problem(name + ": archives nested more than " + MAX_DEPTH + " deep; skipped");
            return;
        }
        InputStream s = decompressed(new BufferedInputStream(in, 1 << 16));
        s.mark(512);
        byte[] head = s.readNBytes(512);
        s.reset();
        if (isTar(head)) {
            readTar(name, s, depth, sink);
            return;
        }
        byte[] bytes = s.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxDocumentBytes + 1));
        if (bytes.length > maxDocumentBytes) {
            sink.problem(name + ": document over " + maxDocumentBytes + " bytes (--max-document-bytes); skipped");
            return;
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
                sink.problem(member + ": " + e.getSize() + " bytes, over the " + (text ? "document" : "archive") + " cap of "
                        + cap + "; skipped");
                continue;
            }
            byte[] bytes = tar.readNBytes((int) e.getSize());
            if (text) {
                sink.document(member, bytes);
            } else if (isCompressedOrTar(bytes)) {
                if (depth > 0 || !sink.archive(member, bytes)) {
                    read(member, new ByteArrayInputStream(bytes), depth + 1, sink);
                }
            } else {
                sink.problem(member + ": neither a .txt document nor an archive; skipped");
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
