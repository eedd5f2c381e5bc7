package dev.convbert.trainer.pretrain;

import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * What a truncated xz stream certainly holds. The xz decoder reads an LZMA2 chunk's compressed bytes whole before it
 * decodes any (up to 64 KiB holding up to 2 MiB of text), so a file cut inside a chunk yields nothing of that chunk,
 * though most of it is intact: OpenWebText's small archives are often one chunk, and all of their documents were lost.
 *
 * <p>This stream decodes the file twice, once padded past its end with 0x00 bytes and once with 0xFF, and yields the
 * bytes on which the two decodes agree, then ends. LZMA's range coder maps its input to output monotonically — the
 * continuations that decode to a given prefix form an interval of code values — and the lost bytes lie between the
 * all-0x00 and all-0xFF continuations, so whatever both decode to, the intact file decoded to as well. Past the cut
 * the two disagree within a few bytes.
 */
final class TruncatedXz extends InputStream {
    /** More than a chunk's compressed size, so the chunk the file was cut in is completed by padding. */
    private static final int PADDING = 1 << 17;
    /**
     * Bytes asked of each decode at a time: a decode that fails mid-call loses that call's bytes, so this bounds what
     * is lost before the cut.
     */
    private static final int STEP = 512;

    private final InputStream low;
    private final InputStream high;
    private final byte[] a = new byte[STEP];
    private final byte[] b = new byte[STEP];
    private int pos;
    private int count;
    private boolean ended;
    private long agreed;

    TruncatedXz(CorpusReader.Source source) throws IOException {
        low = new XZInputStream(new Padded(source.open(), (byte) 0x00), -1, false);
        high = new XZInputStream(new Padded(source.open(), (byte) 0xFF), -1, false);
    }

    /** Decoded bytes yielded so far: where the certain part of the file ends once this stream has ended. */
    long agreedBytes() {
        return agreed;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        if (pos == count) {
            if (ended) {
                return -1;
            }
            int x = readUpTo(low, a);
            int y = readUpTo(high, b);
            int same = Arrays.mismatch(a, 0, x, b, 0, y);
            count = same < 0 ? x : same;
            pos = 0;
            ended = same >= 0 || x < STEP;
            if (count == 0) {
                return -1;
            }
        }
        int n = Math.min(len, count - pos);
        System.arraycopy(a, pos, buf, off, n);
        pos += n;
        agreed += n;
        return n;
    }

    /** Up to {@code buf.length} bytes; fewer when the decode ends or fails (padding decodes to garbage that fails). */
    private static int readUpTo(InputStream in, byte[] buf) {
        int n = 0;
        try {
            while (n < buf.length) {
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        } catch (IOException | RuntimeException e) {
            // the decode reached the padding's garbage
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        try {
            low.close();
        } finally {
            high.close();
        }
    }

    /** The file's bytes, then {@link #PADDING} copies of {@code pad}, then the end. */
    private static final class Padded extends InputStream {
        private final InputStream in;
        private final byte pad;
        private boolean inEnded;
        private int padded;

        Padded(InputStream in, byte pad) {
            this.in = in;
            this.pad = pad;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            if (!inEnded) {
                int n;
                try {
                    n = in.read(buf, off, len);
                } catch (java.io.EOFException e) {
                    n = -1;
                }
                if (n >= 0) {
                    return n;
                }
                inEnded = true;
            }
            if (padded >= PADDING) {
                return -1;
            }
            int n = Math.min(len, PADDING - padded);
            Arrays.fill(buf, off, off + n, pad);
            padded += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
