package dev.convbert.core.cli;

import java.util.List;

/** The commands defined in core: tokenize, glue-stats, and predict (its engines are provided by other modules). */
public final class CoreCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new TokenizeCommand(), new GlueStatsCommand(), new PredictCommand(), new PredictGlueCommand(),
                new InspectCheckpointCommand(), new ConvertCommand());
    }
}
