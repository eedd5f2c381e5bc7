package dev.convbert.benchmarks;

import dev.convbert.core.cli.SubcommandProvider;

import java.util.List;

/** The commands of the benchmarks module. */
public final class BenchmarkCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new TokenizerBenchmark(), new ModelBenchmark(), new ExportBenchmark(), new LatencyBenchmark(), new ServeLoadTest(), new PlotMetrics(),
                new GpuCheck(), new ReliabilityCases(), new PageCheck(), new OptimizeCommand());
    }
}
