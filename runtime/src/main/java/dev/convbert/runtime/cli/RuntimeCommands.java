package dev.convbert.runtime.cli;

import dev.convbert.core.cli.SubcommandProvider;

import java.util.List;

/** The commands of the runtime module. */
public final class RuntimeCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new ScoreCommand(), new ServeCommand());
    }
}
