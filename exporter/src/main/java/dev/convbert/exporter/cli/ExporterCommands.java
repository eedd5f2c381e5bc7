package dev.convbert.exporter.cli;

import dev.convbert.core.cli.SubcommandProvider;

import java.util.List;

/** The commands of the exporter module. */
public final class ExporterCommands implements SubcommandProvider {
    @Override
    public List<Object> commands() {
        return List.of(new ExportCommand());
    }
}
