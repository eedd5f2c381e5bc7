package dev.convbert.benchmarks;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;

/** The placement probe returns a plausible round trip and never hangs, even with a single bounce. */
class CoreDistanceTest {
    @Test
    void roundTripIsPositiveAndBounded() {
        double ns = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CoreDistance.roundTripNs(2_000));
        // a cache line bounced between two threads: tens of ns on one die, hundreds across dies; a time-sliced
        // single CPU makes each bounce wait for a scheduler tick, hence the generous upper bound
        assertTrue(ns > 1 && ns < 50_000_000, "round trip " + ns + " ns");
        double one = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CoreDistance.roundTripNs(1));
        assertTrue(Double.isFinite(one) && one >= 0, "single-bounce probe " + one);
    }
}
