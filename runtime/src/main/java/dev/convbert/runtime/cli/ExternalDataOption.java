package dev.convbert.runtime.cli;

import picocli.CommandLine.Option;

/**
 * {@code --allow-external-data} of the commands that open a user's {@code .onnx} (score, serve): tensors stored in
 * other files are refused unless asked for, and then only inside the model's directory
 * ({@link dev.convbert.runtime.score.ExternalData}).
 */
final class ExternalDataOption {
    @Option(names = "--allow-external-data",
            description = "Accept a model whose tensors live in other files, if they are inside its directory.")
    boolean allowed;
}
