package dev.convbert.benchmarks;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --testdata} of the commands that run from the repository's fixtures (gpu-check, reliability-cases). */
final class TestdataOption {
    @Option(names = "--testdata", defaultValue = "testdata", description = "The repository's testdata/ (default ${DEFAULT-VALUE}).")
    Path dir = Path.of("testdata");

    Path resolve(String relative) {
        return dir.resolve(relative);
    }

    /** The BERT uncased vocabulary every fixture model was built on. */
    Path vocab() {
        return resolve("vocab/bert-base-uncased-vocab.txt");
    }

    /** {@code reference/SET}: an independent implementation's inputs and outputs for a checkpoint. */
    Path reference(String set) {
        return dir.resolve("reference").resolve(set);
    }
}
