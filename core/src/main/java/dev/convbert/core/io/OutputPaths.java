package dev.convbert.core.io;

import dev.convbert.core.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks an output path against the inputs of the same command before anything is written. */
public final class OutputPaths {
    private OutputPaths() {}

    /**
     * Refuses {@code output} when it is one of {@code inputs} (the same file by any name: links, {@code ./}, hard
     * links): the atomic rename at the end would replace the input with the output. Devices and FIFOs are left alone
     * ({@code --input /dev/stdin --output /dev/stdout} is fine).
     */
    public static void requireNotAnInput(String outputOption, Path output, Path... inputs) throws IOException {
        if (!Files.isRegularFile(output)) {
            return;
        }
        for (Path in : inputs) {
            if (in != null && Files.exists(in) && Files.isSameFile(in, output)) {
                throw new InvalidInputException(outputOption + " " + output + " is the input file " + in
                        + "; writing it would replace the input. Choose another output path");
            }
        }
    }
}
