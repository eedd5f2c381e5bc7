package dev.convbert.benchmarks;

import picocli.CommandLine.Option;

/**
 * How long a cell is timed, for the commands that time exports in rotating blocks (benchmark, optimize): blocks of
 * back-to-back runs after an idle pause, repeated until enough seconds or runs are measured.
 */
final class TimingOptions {
    @Option(names = "--repeats", defaultValue = "5",
            description = "Timed back-to-back runs per block (default ${DEFAULT-VALUE}); blocks repeat until --min-seconds.")
    int repeats;

    @Option(names = "--min-seconds", defaultValue = "1.0",
            description = "Keep repeating a cell until each backend or setting has this many seconds measured (default ${DEFAULT-VALUE}).")
    double minSeconds;

    @Option(names = "--max-runs", defaultValue = "60",
            description = "Stop a cell after this many timed runs per backend or setting even before --min-seconds (default ${DEFAULT-VALUE}).")
    int maxRuns;

    @Option(names = "--settle-ms", defaultValue = Settle.DEFAULT_MS,
            description = "Idle time before each timed block (default ${DEFAULT-VALUE}): ORT's and PyTorch's worker threads keep "
                    + "spinning after a run and would slow whichever backend runs next.")
    int settleMs;

    OptimizeTimer.Limits limits() {
        return new OptimizeTimer.Limits(repeats, minSeconds, maxRuns, settleMs);
    }
}
