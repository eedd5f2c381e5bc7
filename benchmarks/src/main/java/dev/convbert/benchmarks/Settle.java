package dev.convbert.benchmarks;

/**
 * Idle time before another backend runs on the same cores: ORT's and PyTorch's worker threads keep spinning after a
 * run and slow whichever backend runs next. Measured at batch 1 × seq 128 (medium-small, 2 cores): straight after an
 * ORT session, a run took 55 ms (ORT inline) and 109 ms (DJL); after 100 ms idle, 32 and 53 ms.
 */
final class Settle {
    static final String DEFAULT_MS = "100";

    private Settle() {}

    static void pause(int ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while settling between timed runs", e);
        }
    }
}
