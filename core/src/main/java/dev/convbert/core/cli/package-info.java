/**
 * The {@code convbert} entry point (picocli): subcommands found through {@link dev.convbert.core.cli.SubcommandProvider},
 * exit codes, one-line errors, progress bars; and the commands that need only core (tokenize, glue-stats, predict,
 * predict-glue).
 */
package dev.convbert.core.cli;
