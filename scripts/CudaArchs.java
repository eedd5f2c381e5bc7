import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Which GPU architectures a native library can run on: scans the CUDA fat binaries embedded in shared libraries (given
 * directly, or inside the jars Maven fetched) and lists, per library, the SASS (cubin) and PTX entries by SM version.
 * No CUDA toolkit needed (cuobjdump --list-elf gives the same answer where it is installed).
 *
 * <p>Usage: {@code java scripts/CudaArchs.java FILE.jar|FILE.so ...} (docs/GPU.md).
 *
 * <p>Fat binary layout: a 16-byte header (magic 0xBA55ED50, u16 version, u16 header size, u64 size of the entries that
 * follow), then entries, each with u16 kind (1 PTX, 2 ELF/SASS) at 0, u32 header size at 4, u64 payload size at 8 and
 * u32 SM version (e.g. 70, 80, 90) at 28; the next entry starts after this one's header and payload.
 */
public final class CudaArchs {
    private static final int MAGIC = 0xBA55ED50;

    record Counts(TreeMap<Integer, Integer> sass, TreeMap<Integer, Integer> ptx) {
        Counts() {
            this(new TreeMap<>(), new TreeMap<>());
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: java scripts/CudaArchs.java FILE.jar|FILE.so ...");
            System.exit(2);
        }
        for (String a : args) {
            Path p = Path.of(a);
            if (a.endsWith(".jar")) {
                try (ZipFile zip = new ZipFile(p.toFile())) {
                    for (ZipEntry e : zip.stream().filter(e -> e.getName().matches(".*\\.so(\\.[0-9.]+)?$")).toList()) {
                        try (InputStream in = zip.getInputStream(e)) {
                            report(p.getFileName() + "!" + e.getName(), in.readAllBytes());
                        }
                    }
                }
            } else {
                report(a, Files.readAllBytes(p));
            }
        }
    }

    private static void report(String name, byte[] bytes) {
        Counts c = scan(bytes);
        if (c.sass().isEmpty() && c.ptx().isEmpty()) {
            System.out.printf("%s: no CUDA code%n", name);
            return;
        }
        System.out.printf("%s: SASS %s; PTX %s%n", name, describe(c.sass()), describe(c.ptx()));
        TreeSet<Integer> runs = new TreeSet<>();
        for (int cc : new int[]{60, 61, 70, 75, 80, 86, 89, 90, 100, 120}) {
            boolean sass = c.sass().keySet().stream().anyMatch(s -> s / 10 == cc / 10 && s <= cc);
            boolean ptx = c.ptx().keySet().stream().anyMatch(s -> s <= cc);
            if (sass || ptx) {
                runs.add(cc);
            }
        }
        System.out.printf("  runs on compute capability (SASS of the same major ≤ it, or PTX ≤ it to JIT): %s%n", runs);
    }

    private static String describe(Map<Integer, Integer> m) {
        if (m.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        m.forEach((sm, n) -> sb.append(sb.length() == 0 ? "" : ", ").append("sm_").append(sm).append(" ×").append(n));
        return sb.toString();
    }

    static Counts scan(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Counts c = new Counts();
        for (int i = 0; i + 16 <= bytes.length; i += 4) {
            if (b.getInt(i) != MAGIC) {
                continue;
            }
            int headerSize = b.getShort(i + 6) & 0xffff;
            long size = b.getLong(i + 8);
            if (headerSize != 16 || size <= 0 || i + 16 + size > bytes.length) {
                continue;
            }
            long at = i + 16;
            long end = at + size;
            while (at + 32 <= end) {
                int kind = b.getShort((int) at) & 0xffff;
                long entryHeader = Integer.toUnsignedLong(b.getInt((int) at + 4));
                long payload = b.getLong((int) at + 8);
                int sm = b.getInt((int) at + 28);
                if (entryHeader < 32 || payload < 0 || (kind != 1 && kind != 2)) {
                    break;
                }
                (kind == 1 ? c.ptx() : c.sass()).merge(sm, 1, Integer::sum);
                at += entryHeader + payload;
            }
            i = (int) Math.min(end, Integer.MAX_VALUE - 4) - 4;
        }
        return c;
    }
}
