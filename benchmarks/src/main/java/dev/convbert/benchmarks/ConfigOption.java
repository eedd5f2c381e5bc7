package dev.convbert.benchmarks;

import dev.convbert.core.config.ConvBertConfig;
import picocli.CommandLine.Option;

import java.io.IOException;

/** {@code --config} of the benchmarks that build a freshly initialised model of a given size. */
final class ConfigOption {
    @Option(names = "--config", defaultValue = "medium-small",
            description = "tiny, small, medium-small, base or a config.json (default ${DEFAULT-VALUE}).")
    String name = "medium-small";

    ConvBertConfig config() throws IOException {
        return ConvBertConfig.presetOrFile(name);
    }
}
