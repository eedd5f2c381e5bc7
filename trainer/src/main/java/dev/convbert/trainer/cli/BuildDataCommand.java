package dev.convbert.trainer.cli;

import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.trainer.pretrain.DataBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code convbert build-data}: raw text to pre-training shards. */
@Command(name = "build-data",
        description = "Build pre-training shards from a corpus tree: text files, .xz/.gz, tars of .txt documents, and tars "
                + "of such archives (OpenWebText: the unpacked openwebtext/*_data.xz files, or openwebtext.tar.xz "
                + "itself); files are recognised by content. One document per file or .txt member. Re-running skips "
                + "shards whose inputs are unchanged by content (sha256); damaged documents are reported in "
                + "manifest.json and skipped, and a truncated .xz/.gz keeps the documents before the damage.",
        footer = "  convbert build-data --corpus corpus/ --vocab vocab.txt --output data/pretrain")
public final class BuildDataCommand implements Callable<Integer> {
    @Option(names = "--corpus", required = true, description = "The corpus tree (read only).")
    Path corpus;

    @Option(names = "--vocab", required = true, description = "WordPiece vocab.txt; copied beside the shards.")
    Path vocab;

    @Option(names = "--output", required = true, description = "Directory for the shards and manifest.json; not inside --corpus.")
    Path output;

    @Option(names = "--max-seq-length", defaultValue = "128", description = "Tokens per example (default ${DEFAULT-VALUE}).")
    int maxSeqLength;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the example packing (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-document-bytes", paramLabel = "N",
            description = "Documents larger than this are reported and skipped, never loaded (default: 64 MiB).")
    Long maxDocumentBytes;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--latin1-fallback", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Decode documents that are not UTF-8 as ISO-8859-1 and report them (default); --no-latin1-fallback skips them.")
    boolean latin1;

    @Override
    public Integer call() throws Exception {
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        var manifest = new DataBuilder(new BertTokenizer(Vocab.read(vocab)), maxSeqLength, seed, latin1, t,
                maxDocumentBytes != null ? maxDocumentBytes : DataBuilder.DEFAULT_MAX_DOCUMENT_BYTES).build(corpus, output);
        System.out.printf(java.util.Locale.ROOT, "%d documents, %d examples, %d tokens in %.1f s (%.0f tokens/s); %d problems (see %s)%n",
                manifest.get("documents").asLong(), manifest.get("examples").asLong(), manifest.get("tokens").asLong(),
                manifest.get("seconds").asDouble(), manifest.get("tokens_per_s").asDouble(), manifest.get("problems").size(),
                output.resolve("manifest.json"));
        JsonNode cut = manifest.get("cut");
        if (cut.get("documents_over_max_document_bytes").asLong() > 0 || cut.get("lines_over_max_seq_length").asLong() > 0) {
            System.out.printf(java.util.Locale.ROOT, "cut: %d documents over --max-document-bytes (skipped); %d lines in %d "
                            + "documents longer than an example (--max-seq-length %d), %d tokens past it dropped%n",
                    cut.get("documents_over_max_document_bytes").asLong(), cut.get("lines_over_max_seq_length").asLong(),
                    cut.get("documents_with_lines_over_max_seq_length").asLong(), maxSeqLength,
                    cut.get("tokens_cut_from_long_lines").asLong());
        }
        return ExitCodes.OK;
    }
}
