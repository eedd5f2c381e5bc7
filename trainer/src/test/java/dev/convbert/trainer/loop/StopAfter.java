package dev.convbert.trainer.loop;

import java.util.Optional;

/**
 * A {@link StopRequest} that asks after {@code steps} steps of this process, as a SIGTERM would: the loop asks once
 * before its first step and once after each step that is not the last, so the ask after step k is call k + 1.
 */
public final class StopAfter implements StopRequest {
    private final int steps;
    private int calls;

    public StopAfter(int steps) {
        this.steps = steps;
    }

    @Override
    public Optional<Reason> requested() {
        return ++calls > steps ? Optional.of(new Reason("SIGTERM", 143)) : Optional.empty();
    }
}
