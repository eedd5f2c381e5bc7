package dev.convbert.benchmarks;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How far apart the cores are that this process runs on right now: the round-trip time of one cache line bounced
 * between two spinning threads. On this project's cloud VM (2 vCPUs, AMD EPYC) the host moves the vCPUs every few
 * seconds between cores sharing an L3 (round trip 35–270 ns) and cores on different CCDs (330–580 ns); 2-thread ONNX
 * Runtime runs 1.5× slower at batch 1 × seq 128 in the second placement (27 vs 40 ms; 1-thread runs and two
 * independent 1-thread processes do not change). The benchmark probes before each block so results can be split by
 * placement instead of mixing two machines into one percentile.
 */
final class CoreDistance {
    private CoreDistance() {}

    /** The mean round trip over {@code iterations} bounces, in ns. */
    static double roundTripNs(int iterations) {
        AtomicInteger line = new AtomicInteger();
        Thread echo = new Thread(() -> {
            for (int i = 0; i < iterations; i++) {
                while (line.get() != 2 * i + 1) {
                    Thread.onSpinWait();
                }
                line.set(2 * i + 2);
            }
        }, "core-distance-echo");
        echo.setDaemon(true);
        echo.start();
        // the echo thread may not be scheduled yet: the first bounce waits for it and is not timed
        line.set(1);
        while (line.get() != 2) {
            Thread.onSpinWait();
        }
        long start = System.nanoTime();
        for (int i = 1; i < iterations; i++) {
            line.set(2 * i + 1);
            while (line.get() != 2 * i + 2) {
                Thread.onSpinWait();
            }
        }
        double ns = (System.nanoTime() - start) / (double) Math.max(1, iterations - 1);
        try {
            echo.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ns;
    }
}
