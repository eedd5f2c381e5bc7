package dev.convbert.spark;

import dev.convbert.core.cli.SubcommandProvider;

import java.util.List;

/** The commands of the spark module. */
public final class SparkCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new SparkScoreCommand());
    }
}
