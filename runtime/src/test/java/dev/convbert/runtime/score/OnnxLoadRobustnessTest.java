package dev.convbert.runtime.score;

import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RELIABILITY.md "model load rejects bad files cleanly": 200 seeded mutations of the committed tiny model (truncation,
 * bit flips, zeroed ranges) are opened and, when they load, run once — in a child JVM, because a native crash in ONNX
 * Runtime would take the test JVM down with it. Each case must load (and answer or fail with our exceptions) or be
 * rejected with a {@link ScoringException}; the child reports every case, and must exit normally.
 */
@org.junit.jupiter.api.Timeout(60)   // it talks to sockets, threads or processes: never hang the build
class OnnxLoadRobustnessTest {
    static final int CASES = 200;

    @Test
    void mutatedModelsLoadOrFailWithOurExceptionAndNeverKillTheProcess(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Child.class.getName(),
                TinyModel.ONNX.toString(), dir.toString(), Integer.toString(CASES))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = child.waitFor(5, TimeUnit.MINUTES);
        if (!done) {
            child.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(log);
        String last = lines.stream().filter(l -> l.startsWith("case ")).reduce((a, b) -> b).orElse("no case started");
        assertTrue(done, "child still running after 5 minutes; last: " + last);
        assertEquals(0, child.exitValue(), "child died (exit " + child.exitValue() + ", > 128 = killed by a signal) at: "
                + last + "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
        long loaded = lines.stream().filter(l -> l.endsWith(" loaded")).count();
        long rejected = lines.stream().filter(l -> l.endsWith(" rejected")).count();
        assertEquals(CASES, loaded + rejected, String.join("\n", lines));
        System.out.printf("mutated models: %d loaded, %d rejected with ScoringException, %d runs failed cleanly%n",
                loaded, rejected, lines.stream().filter(l -> l.contains("run failed cleanly")).count());
        assertTrue(rejected > 0, "no mutation was rejected: the mutations do not reach the loader");
    }

    /** The child: mutates, opens, runs; prints one line per case; exits 3 on any other exception. */
    public static final class Child {
        public static void main(String[] args) throws IOException {
            byte[] original = Files.readAllBytes(Path.of(args[0]));
            Path dir = Path.of(args[1]);
            int cases = Integer.parseInt(args[2]);
            Random rnd = new Random(20261127);
            for (int i = 0; i < cases; i++) {
                byte[] bytes = mutate(original, rnd, i % 3);
                Path file = dir.resolve("case-" + i + ".onnx");
                Files.write(file, bytes);
                System.out.println("case " + i + " (" + describe(i % 3) + ")");
                System.out.flush();
                String outcome;
                try (OrtModel m = OrtModel.open(file, ExecutionProvider.cpu())) {
                    try {
                        m.run(new long[][]{{101, 2023, 102}}, new long[][]{{0, 0, 0}}, new long[][]{{1, 1, 1}}, false);
                    } catch (IllegalStateException | ScoringException e) {
                        System.out.println("  run failed cleanly: " + e.getMessage().lines().findFirst().orElse(""));
                    }
                    outcome = "loaded";
                } catch (ScoringException e) {
                    outcome = "rejected";
                } catch (RuntimeException | Error e) {
                    System.out.println("case " + i + " BUG: " + e);
                    e.printStackTrace(System.out);
                    System.exit(3);
                    return;
                }
                Files.delete(file);
                System.out.println("case " + i + " " + outcome);
            }
        }

        private static String describe(int kind) {
            return List.of("truncated", "bit flips", "zeroed range").get(kind);
        }

        private static byte[] mutate(byte[] b, Random rnd, int kind) {
            byte[] out = b.clone();
            switch (kind) {
                case 0 -> out = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
                case 1 -> {
                    for (int k = 1 + rnd.nextInt(8); k > 0; k--) {
                        int at = headerBiased(b.length, rnd);
                        out[at] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                default -> {
                    int at = headerBiased(b.length, rnd);
                    java.util.Arrays.fill(out, at, Math.min(b.length, at + 4 + rnd.nextInt(61)), (byte) 0);
                }
            }
            return out;
        }

        /**
         * Half the positions fall in the structure around the weights (the first and last 64 KiB hold the node list,
         * shapes, function and metadata); flipping weight bytes only changes numbers.
         */
        private static int headerBiased(int length, Random rnd) {
            if (rnd.nextBoolean()) {
                return rnd.nextInt(length);
            }
            int window = Math.min(length, 65536);
            return rnd.nextBoolean() ? rnd.nextInt(window) : length - 1 - rnd.nextInt(window);
        }
    }
}
