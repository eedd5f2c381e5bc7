package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.convbert.core.io.AtomicFiles;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** {@code --output} of the measurements that print their results: the same results as JSON, when asked for. */
final class ResultsOutput {
    @Option(names = "--output", description = "Results JSON (default: none, the results are only printed).")
    Path output;

    /** Writes {@code results} to --output, atomically; nothing without --output. */
    void write(JsonNode results) throws IOException {
        if (output != null) {
            AtomicFiles.writeString(output, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(results) + "\n");
        }
    }
}
