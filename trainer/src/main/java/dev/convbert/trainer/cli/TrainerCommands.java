package dev.convbert.trainer.cli;

import dev.convbert.core.cli.SubcommandProvider;

import java.util.List;

/** The commands of the trainer module. */
public final class TrainerCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new FinetuneCommand(), new BuildDataCommand(), new PretrainCommand());
    }
}
