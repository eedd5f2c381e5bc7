/**
 * The {@code convbert} entry point (picocli): subcommands found through {@link dev.convbert.core.cli.SubcommandProvider},
 * exit codes, one-line errors, progress bars, and what every command inherits from the root ({@code --help},
 * {@code --version}, options in declaration order, an {@code Examples:} footer); the option mixins that commands in
 * several modules share ({@link dev.convbert.core.cli.ModelOptions}, {@link dev.convbert.core.cli.BatchOptions},
 * {@link dev.convbert.core.cli.PredictorOptions}, {@link dev.convbert.core.cli.GlueOptions}); and the commands that need
 * only core (tokenize, glue-stats, inspect-checkpoint, convert, predict, predict-glue).
 */
package dev.convbert.core.cli;
