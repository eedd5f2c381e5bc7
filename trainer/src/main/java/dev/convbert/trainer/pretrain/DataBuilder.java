package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.cli.Progress;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.tokenize.BertTokenizer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code build-data}: a corpus tree of {@code .txt}, {@code .txt.xz}, {@code .tar} and {@code .tar.xz} (the
 * OpenWebText layout; one document per file or archive member) into pre-training shards plus {@code manifest.json}.
 *
 * <p>Inputs are sorted and cut into shards (each archive is its own shard; loose files 32 to a shard), shards are built
 * in parallel, each with its own seeded {@link ExampleBuilder}, so the output is the same for a seed whatever the thread
 * count. A re-run keeps shards whose file still matches the manifest's sha256. Unreadable (or, without the Latin-1
 * fallback, non-UTF-8) documents are reported and skipped; the run goes on.
 */
public final class DataBuilder {
    private static final int FILES_PER_SHARD = 32;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final BertTokenizer tokenizer;
    private final int maxLength;
    private final long seed;
    private final boolean latin1Fallback;
    private final int threads;

    public DataBuilder(BertTokenizer tokenizer, int maxLength, long seed, boolean latin1Fallback, int threads) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.seed = seed;
        this.latin1Fallback = latin1Fallback;
        this.threads = threads;
    }

    /** One shard to build: its inputs, in order. */
    record ShardPlan(int index, List<Path> inputs) {
        String fileName() {
            return String.format(Locale.ROOT, "shard-%05d.bin", index);
        }
    }

    /** What one shard produced. */
    record ShardResult(ShardPlan plan, int documents, int examples, long tokens, List<String> problems, String sha256, boolean reused) {}

    public ObjectNode build(Path corpus, Path output) throws Exception {
        if (!Files.isDirectory(corpus)) {
            throw new IllegalArgumentException(corpus + ": not a directory; expected a corpus tree of .txt/.txt.xz/.tar/.tar.xz");
        }
        Files.createDirectories(output);
        List<ShardPlan> plans = plan(corpus);
        if (plans.isEmpty()) {
            throw new IllegalArgumentException(corpus + ": no .txt, .txt.xz, .tar or .tar.xz files found");
        }
        JsonNode previous = Files.isRegularFile(output.resolve("manifest.json")) ? JSON.readTree(output.resolve("manifest.json").toFile()) : null;
        long totalBytes = plans.stream().flatMap(p -> p.inputs().stream()).mapToLong(DataBuilder::size).sum();
        AtomicLong docs = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        long start = System.nanoTime();
        List<ShardResult> results = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Progress progress = Progress.start("build-data", totalBytes, "B")) {
            List<Future<ShardResult>> futures = new ArrayList<>();
            for (ShardPlan p : plans) {
                futures.add(pool.submit(() -> {
                    ShardResult r = buildShard(corpus, p, output, previous);
                    docs.addAndGet(r.documents());
                    tokens.addAndGet(r.tokens());
                    progress.step(p.inputs().stream().mapToLong(DataBuilder::size).sum());
                    double secs = (System.nanoTime() - start) / 1e9;
                    progress.extra(String.format(Locale.ROOT, "%.0f docs/s %.0f tokens/s", docs.get() / secs, tokens.get() / secs));
                    return r;
                }));
            }
            for (Future<ShardResult> f : futures) {
                results.add(f.get());
            }
        } finally {
            pool.shutdown();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("format", "CBPTSHD1 (docs/PRETRAIN_DATA.md)");
        manifest.put("corpus", corpus.toAbsolutePath().normalize().toString());
        manifest.put("max_seq_length", maxLength);
        manifest.put("seed", seed);
        manifest.put("vocab_size", tokenizer.vocab().size());
        manifest.put("vocab", tokenizer.vocab().source().toString());
        manifest.put("latin1_fallback", latin1Fallback);
        manifest.put("documents", results.stream().mapToLong(ShardResult::documents).sum());
        manifest.put("examples", results.stream().mapToLong(ShardResult::examples).sum());
        manifest.put("tokens", results.stream().mapToLong(ShardResult::tokens).sum());
        manifest.put("seconds", secs);
        manifest.put("tokens_per_s", manifest.get("tokens").asLong() / secs);
        manifest.put("threads", threads);
        ArrayNode shards = manifest.putArray("shards");
        ArrayNode problems = manifest.putArray("problems");
        for (ShardResult r : results) {
            ObjectNode s = shards.addObject();
            s.put("file", r.plan().fileName());
            s.put("documents", r.documents());
            s.put("examples", r.examples());
            s.put("tokens", r.tokens());
            s.put("sha256", r.sha256());
            s.put("reused", r.reused());
            ArrayNode in = s.putArray("inputs");
            r.plan().inputs().forEach(p -> in.add(corpus.relativize(p).toString()));
            r.problems().forEach(problems::add);
        }
        AtomicFiles.writeString(output.resolve("manifest.json"), JSON.writeValueAsString(manifest) + "\n");
        return manifest;
    }

    private ShardResult buildShard(Path corpus, ShardPlan plan, Path output, JsonNode previous) throws IOException {
        Path file = output.resolve(plan.fileName());
        JsonNode old = previous == null ? null : findShard(previous, plan.fileName());
        if (old != null && Files.isRegularFile(file) && Hashing.sha256(file).equals(old.get("sha256").asText())
                && old.get("inputs").size() == plan.inputs().size()) {
            return new ShardResult(plan, old.get("documents").asInt(), old.get("examples").asInt(), old.get("tokens").asLong(),
                    List.of(), old.get("sha256").asText(), true);
        }
        List<ExampleBuilder.Example> examples = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int documents = 0;
        for (Path input : plan.inputs()) {
            try {
                for (Document d : documents(input)) {
                    CorpusText.Decoded text = CorpusText.decode(d.bytes(), latin1Fallback);
                    if (text == null) {
                        problems.add(d.name() + ": not UTF-8; skipped (pass --latin1-fallback to decode it as ISO-8859-1)");
                        continue;
                    }
                    if (text.decoding() == CorpusText.Decoding.LATIN1_FALLBACK) {
                        problems.add(d.name() + ": not UTF-8; decoded as ISO-8859-1");
                    }
                    documents++;
                    // seeded by the name inside the corpus, so the output does not depend on where the corpus lies
                    String relative = corpus.toAbsolutePath().normalize().relativize(Path.of(d.name().split("!")[0])
                            .toAbsolutePath().normalize()) + (d.name().contains("!") ? d.name().substring(d.name().indexOf('!')) : "");
                    Random rnd = new Random(seed * 1_000_003L + relative.replace('\\', '/').hashCode());
                    ExampleBuilder builder = new ExampleBuilder(maxLength, tokenizer.vocab().clsId(), tokenizer.vocab().sepId(), rnd);
                    for (String line : text.text().split("\n")) {
                        String l = line.strip();
                        if (l.isEmpty()) {
                            continue;   // OpenWebText: blank lines do not separate documents
                        }
                        ExampleBuilder.Example e = builder.addLine(ids(l));
                        if (e != null) {
                            examples.add(e);
                        }
                    }
                    ExampleBuilder.Example last = builder.addLine(new int[0]);
                    if (last != null) {
                        examples.add(last);
                    }
                }
            } catch (IOException | RuntimeException e) {
                problems.add(input + ": unreadable (" + e.getMessage() + "); skipped");
            }
        }
        ShardFormat.write(file, examples, tokenizer.vocab().size(), maxLength);
        long tokens = examples.stream().mapToLong(e -> e.ids().length).sum();
        return new ShardResult(plan, documents, examples.size(), tokens, problems, Hashing.sha256(file), false);
    }

    private int[] ids(String line) {
        List<String> pieces = tokenizer.tokenize(line);
        int[] out = new int[pieces.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokenizer.vocab().id(pieces.get(i));
        }
        return out;
    }

    record Document(String name, byte[] bytes) {}

    private static List<Document> documents(Path input) throws IOException {
        String n = input.getFileName().toString();
        if (n.endsWith(".tar") || n.endsWith(".tar.xz")) {
            List<Document> out = new ArrayList<>();
            try (InputStream raw = new BufferedInputStream(Files.newInputStream(input));
                 InputStream in = n.endsWith(".xz") ? new XZInputStream(raw) : raw;
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    if (e.isFile() && (e.getName().endsWith(".txt") || e.getName().endsWith(".txt.xz"))) {
                        byte[] bytes = tar.readAllBytes();
                        if (e.getName().endsWith(".xz")) {
                            try (InputStream x = new XZInputStream(new java.io.ByteArrayInputStream(bytes))) {
                                bytes = x.readAllBytes();
                            }
                        }
                        out.add(new Document(input + "!" + e.getName(), bytes));
                    }
                }
            }
            return out;
        }
        if (n.endsWith(".xz")) {
            try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(input)))) {
                return List.of(new Document(input.toString(), in.readAllBytes()));
            }
        }
        return List.of(new Document(input.toString(), Files.readAllBytes(input)));
    }

    private static List<ShardPlan> plan(Path corpus) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(corpus)) {
            files = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".txt") || n.endsWith(".txt.xz") || n.endsWith(".tar") || n.endsWith(".tar.xz");
            }).sorted().toList();
        }
        List<ShardPlan> plans = new ArrayList<>();
        List<Path> loose = new ArrayList<>();
        for (Path f : files) {
            String n = f.getFileName().toString();
            if (n.endsWith(".tar") || n.endsWith(".tar.xz")) {
                plans.add(new ShardPlan(plans.size(), List.of(f)));
            } else {
                loose.add(f);
                if (loose.size() == FILES_PER_SHARD) {
                    plans.add(new ShardPlan(plans.size(), List.copyOf(loose)));
                    loose.clear();
                }
            }
        }
        if (!loose.isEmpty()) {
            plans.add(new ShardPlan(plans.size(), List.copyOf(loose)));
        }
        return plans;
    }

    private static JsonNode findShard(JsonNode manifest, String file) {
        for (JsonNode s : manifest.path("shards")) {
            if (s.get("file").asText().equals(file)) {
                return s;
            }
        }
        return null;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }
}
