package dev.convbert.core.cli;

import java.util.List;

/** The commands that need only core: {@code tokenize} and {@code glue-stats}. */
public final class CoreCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new TokenizeCommand(), new GlueStatsCommand());
    }
}
