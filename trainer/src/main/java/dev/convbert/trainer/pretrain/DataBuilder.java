package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.Progress;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.io.OutputLock;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.tokenize.BertTokenizer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code build-data}: a corpus tree into pre-training shards plus {@code manifest.json}. Files are recognised by
 * content ({@link CorpusReader}): plain text, xz or gzip, tars of {@code .txt} documents, and tars of such archives —
 * the OpenWebText layouts: the unpacked {@code openwebtext/urlsf_subsetNN-M_data.xz} files and
 * {@code openwebtext.tar.xz} itself. One document per file or {@code .txt} member.
 *
 * <p>Inputs are sorted and cut into shards: each archive is its own shard, loose files 32 to a shard, and each archive
 * inside a top-level tar becomes a shard of its own ({@code shard-TTTTT-MMMMM.bin}) as the tar streams past. Shards are
 * built in parallel, each document with its own seeded {@link ExampleBuilder}, so the output is the same for a seed
 * whatever the thread count. A re-run keeps a shard only when its inputs (path, size, mtime; a member's bytes), the
 * settings and its file are unchanged. Unreadable, oversized or (without the Latin-1 fallback) non-UTF-8 documents are reported and skipped; the run goes on.
 */
public final class DataBuilder {
    /** Larger documents are reported and skipped, never loaded (a Gutenberg novel is 1–4 MB; OpenWebText's are KBs). */
    public static final long DEFAULT_MAX_DOCUMENT_BYTES = 64L << 20;
    /** An archive inside a tar is held in memory while it is built; OpenWebText's are ~2 MB. */
    static final long MAX_NESTED_ARCHIVE_BYTES = 1L << 30;
    /** The vocabulary is copied beside the shards, so pre-training uses the very ids the data was built with. */
    public static final String VOCAB_FILE = "vocab.txt";
    public static final String VOCAB_SHA256 = "vocab_sha256";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final BertTokenizer tokenizer;
    private final int maxLength;
    private final long seed;
    private final boolean latin1Fallback;
    private final int threads;
    private final CorpusReader reader;

    public DataBuilder(BertTokenizer tokenizer, int maxLength, long seed, boolean latin1Fallback, int threads,
                       long maxDocumentBytes) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.seed = seed;
        this.latin1Fallback = latin1Fallback;
        this.threads = threads;
        this.reader = new CorpusReader(maxDocumentBytes, MAX_NESTED_ARCHIVE_BYTES);
    }

    /** What one shard produced. */
    record ShardResult(ShardPlan plan, int documents, int examples, long tokens, List<String> problems, Cuts cuts,
                       String sha256, String fingerprint, boolean reused) {}

    /** The state of one build: shards found while streaming a tar join the queue that {@link #build} drains. */
    private final class Run {
        final Path corpus;
        final Path output;
        final JsonNode previous;
        final ExecutorService pool;
        final Queue<Future<ShardResult>> futures = new ConcurrentLinkedQueue<>();
        /** Shards held in memory and not yet built; past this a tar's reader builds the next one itself. */
        final Semaphore inFlight;

        Run(Path corpus, Path output, JsonNode previous, ExecutorService pool) {
            this.corpus = corpus;
            this.output = output;
            this.previous = previous;
            this.pool = pool;
            this.inFlight = new Semaphore(2 * threads);
        }

        void submit(ShardPlan plan, Runnable done) {
            futures.add(pool.submit(() -> {
                try {
                    return buildShard(this, plan);
                } finally {
                    done.run();
                }
            }));
        }
    }

    public ObjectNode build(Path corpus, Path output) throws Exception {
        if (!Files.isDirectory(corpus)) {
            throw new InvalidInputException(corpus + ": not a directory; expected a corpus tree of text files and archives");
        }
        Path realCorpus = corpus.toRealPath();
        Path realOutput = Files.exists(output) ? output.toRealPath() : output.toAbsolutePath().normalize();
        if (realOutput.startsWith(realCorpus)) {
            throw new InvalidInputException("--output " + output + " is inside --corpus " + corpus + ": the next run would "
                    + "read its own vocab.txt and shards as text; choose an output directory outside the corpus");
        }
        try (OutputLock lock = OutputLock.acquire(output, "build-data")) {
            return buildLocked(corpus, output);
        }
    }

    private ObjectNode buildLocked(Path corpus, Path output) throws Exception {
        List<String> skippedFiles = new ArrayList<>();
        List<ShardPlan> plans = ShardPlan.plan(corpus, skippedFiles);
        if (plans.isEmpty()) {
            throw new InvalidInputException(corpus + ": no .txt, .xz, .gz, .tgz or .tar files found");
        }
        byte[] vocabBytes = Files.readAllBytes(tokenizer.vocab().source());
        String vocabSha = Hashing.sha256(vocabBytes);
        JsonNode previous = Files.isRegularFile(output.resolve("manifest.json")) ? JSON.readTree(output.resolve("manifest.json").toFile()) : null;
        if (previous != null && !sameSettings(previous, vocabSha)) {
            previous = null;   // other ids, lengths or seeds: no shard of the earlier run may be reused
        }
        AtomicFiles.write(output.resolve(VOCAB_FILE), o -> o.write(vocabBytes));
        long totalBytes = plans.stream().flatMap(p -> p.inputs().stream()).mapToLong(DataBuilder::size).sum();
        AtomicLong docs = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        long start = System.nanoTime();
        List<ShardResult> results = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Progress progress = Progress.start("build-data", totalBytes, "B")) {
            Run run = new Run(corpus, output, previous, pool);
            for (ShardPlan p : plans) {
                run.submit(p, () -> progress.step(p.inputs().stream().mapToLong(DataBuilder::size).sum()));
            }
            // a shard's nested archives are queued before its own future completes, so draining in order sees them all
            for (Future<ShardResult> f; (f = run.futures.poll()) != null; ) {
                ShardResult r;
                try {
                    r = f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    // writing a shard failed (a full disk, say): the cause names the file; it is not a bug
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
                results.add(r);
                docs.addAndGet(r.documents());
                tokens.addAndGet(r.tokens());
                double secs = (System.nanoTime() - start) / 1e9;
                progress.extra(String.format(Locale.ROOT, "%.0f docs/s %.0f tokens/s", docs.get() / secs, tokens.get() / secs));
            }
        } finally {
            pool.shutdown();
        }
        results.sort(java.util.Comparator.comparing(r -> r.plan().fileName()));
        double secs = (System.nanoTime() - start) / 1e9;
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("format", "CBPTSHD1 (docs/PRETRAIN_DATA.md)");
        manifest.put("corpus", corpus.toAbsolutePath().normalize().toString());
        manifest.put("max_seq_length", maxLength);
        manifest.put("seed", seed);
        manifest.put("vocab_size", tokenizer.vocab().size());
        manifest.put("vocab", VOCAB_FILE);
        manifest.put("vocab_source", tokenizer.vocab().source().toAbsolutePath().normalize().toString());
        manifest.put(VOCAB_SHA256, vocabSha);
        manifest.put("latin1_fallback", latin1Fallback);
        manifest.put("documents", results.stream().mapToLong(ShardResult::documents).sum());
        manifest.put("examples", results.stream().mapToLong(ShardResult::examples).sum());
        manifest.put("tokens", results.stream().mapToLong(ShardResult::tokens).sum());
        manifest.put("seconds", secs);
        manifest.put("tokens_per_s", manifest.get("tokens").asLong() / secs);
        manifest.put("threads", threads);
        manifest.set("cut", results.stream().map(ShardResult::cuts).reduce(Cuts.NONE, Cuts::plus).toJson());
        ArrayNode shards = manifest.putArray("shards");
        ArrayNode problems = manifest.putArray("problems");
        skippedFiles.forEach(problems::add);
        for (ShardResult r : results) {
            ObjectNode s = shards.addObject();
            s.put("file", r.plan().fileName());
            s.put("documents", r.documents());
            s.put("examples", r.examples());
            s.put("tokens", r.tokens());
            s.put("sha256", r.sha256());
            s.put("reused", r.reused());
            s.put("inputs_fingerprint", r.fingerprint());
            s.set("cut", r.cuts().toJson());
            ArrayNode in = s.putArray("inputs");
            r.plan().inputNames(corpus).forEach(in::add);
            ArrayNode own = s.putArray("problems");
            r.problems().forEach(own::add);
            r.problems().forEach(problems::add);
        }
        AtomicFiles.writeString(output.resolve("manifest.json"), JSON.writeValueAsString(manifest) + "\n");
        return manifest;
    }

    private ShardResult buildShard(Run run, ShardPlan plan) throws IOException {
        Path file = run.output.resolve(plan.fileName());
        JsonNode old = run.previous == null ? null : findShard(run.previous, plan.fileName());
        List<String> problems = new ArrayList<>();
        int[] nested = {0};
        String fingerprint = plan.fingerprint(run.corpus);
        // reused only when its inputs and the settings (checked for the whole run) are what built it, and the file is intact
        if (old != null && fingerprint.equals(old.path("inputs_fingerprint").asText()) && Files.isRegularFile(file)
                && Hashing.sha256(file).equals(old.get("sha256").asText())
                && (plan.member() >= 0 || !hadNestedArchives(run.previous, plan.index()))) {
            List<String> oldProblems = new ArrayList<>();
            old.path("problems").forEach(p -> oldProblems.add(p.asText()));
            return new ShardResult(plan, old.get("documents").asInt(), old.get("examples").asInt(), old.get("tokens").asLong(),
                    oldProblems, Cuts.fromJson(old.path("cut")), old.get("sha256").asText(), fingerprint, true);
        }
        List<ExampleBuilder.Example> examples = new ArrayList<>();
        int[] documents = {0};
        Cuts[] cuts = {Cuts.NONE};
        CorpusReader.Sink sink = new CorpusReader.Sink() {
            @Override
            public void document(String name, byte[] bytes) {
                CorpusText.Decoded text = CorpusText.decode(bytes, latin1Fallback);
                if (text == null) {
                    problems.add(name + ": not UTF-8; skipped (pass --latin1-fallback to decode it as ISO-8859-1)");
                    return;
                }
                if (text.decoding() == CorpusText.Decoding.LATIN1_FALLBACK) {
                    problems.add(name + ": not UTF-8; decoded as ISO-8859-1");
                }
                documents[0]++;
                Document d = examples(run.corpus, name, text.text());
                examples.addAll(d.examples());
                if (d.longLines() > 0) {
                    cuts[0] = cuts[0].plus(new Cuts(0, 1, d.longLines(), d.tokensCut()));
                    if (2 * d.tokensCut() > d.tokens()) {
                        problems.add(fmt("%s: %d of its %d tokens are in lines longer than an example (--max-seq-length %d) "
                                + "and were cut; split its lines to keep them", name, d.tokensCut(), d.tokens(), maxLength));
                    }
                }
            }

            @Override
            public void oversized(String message) {
                cuts[0] = cuts[0].plus(new Cuts(1, 0, 0, 0));
                problems.add(message);
            }

            @Override
            public boolean archive(String name, byte[] bytes) {
                ShardPlan child = new ShardPlan(plan.index(), nested[0]++, plan.inputs(), name, bytes);
                if (run.inFlight.tryAcquire()) {
                    run.submit(child, run.inFlight::release);
                } else {
                    // enough shards wait in memory: build this one here rather than read further ahead
                    CompletableFuture<ShardResult> done = new CompletableFuture<>();
                    try {
                        done.complete(buildShard(run, child));
                    } catch (IOException | RuntimeException e) {
                        done.completeExceptionally(e);
                    }
                    run.futures.add(done);
                }
                return true;
            }

            @Override
            public void problem(String message) {
                problems.add(message);
            }
        };
        if (plan.member() >= 0) {
            readSafely(plan.memberName(), () -> reader.read(plan.memberName(), () -> new ByteArrayInputStream(plan.bytes()), 1, sink),
                    problems);
        } else {
            for (Path input : plan.inputs()) {
                readSafely(input.toString(), () -> reader.read(input.toString(), () -> Files.newInputStream(input), 0, sink), problems);
            }
        }
        ShardFormat.write(file, examples, tokenizer.vocab().size(), maxLength);
        long tokens = examples.stream().mapToLong(e -> e.ids().length).sum();
        return new ShardResult(plan, documents[0], examples.size(), tokens, problems, cuts[0], Hashing.sha256(file), fingerprint,
                false);
    }

    private interface Reading {
        void run() throws IOException;
    }

    /** A damaged file is a problem to report, not a reason to stop; what was read before the damage is kept. */
    private static void readSafely(String name, Reading reading, List<String> problems) {
        try {
            reading.run();
        } catch (IOException | RuntimeException e) {
            problems.add(name + ": unreadable (" + e.getMessage() + "); skipped");
        }
    }

    /** A document's examples, its tokens, and what of them lines too long for an example lost. */
    private record Document(List<ExampleBuilder.Example> examples, long tokens, int longLines, long tokensCut) {}

    /** One document's examples, seeded by its name inside the corpus so the output does not depend on where the corpus lies. */
    private Document examples(Path corpus, String name, String text) {
        int bang = name.indexOf('!');
        String relative = corpus.toAbsolutePath().normalize().relativize(Path.of(bang < 0 ? name : name.substring(0, bang))
                .toAbsolutePath().normalize()) + (bang < 0 ? "" : name.substring(bang));
        Random rnd = new Random(seed * 1_000_003L + relative.replace('\\', '/').hashCode());
        ExampleBuilder builder = new ExampleBuilder(maxLength, tokenizer.vocab().clsId(), tokenizer.vocab().sepId(), rnd);
        List<ExampleBuilder.Example> out = new ArrayList<>();
        long tokens = 0;
        int longLines = 0;
        long tokensCut = 0;
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty()) {
                continue;   // OpenWebText: blank lines do not separate documents
            }
            int[] ids = ids(l);
            tokens += ids.length;
            if (ids.length > maxLength - 2) {
                longLines++;
                tokensCut += ids.length - (maxLength - 2);
            }
            ExampleBuilder.Example e = builder.addLine(ids);
            if (e != null) {
                out.add(e);
            }
        }
        ExampleBuilder.Example last = builder.addLine(new int[0]);
        if (last != null) {
            out.add(last);
        }
        return new Document(out, tokens, longLines, tokensCut);
    }

    private int[] ids(String line) {
        List<String> pieces = tokenizer.tokenize(line);
        int[] out = new int[pieces.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokenizer.vocab().id(pieces.get(i));
        }
        return out;
    }

    private boolean sameSettings(JsonNode previous, String vocabSha) {
        return vocabSha.equals(previous.path(VOCAB_SHA256).asText()) && previous.path("seed").asLong() == seed
                && previous.path("max_seq_length").asInt() == maxLength && previous.path("latin1_fallback").asBoolean() == latin1Fallback;
    }

    /** A tar whose archives became shards of their own is read again on a re-run, to list them; they are reused. */
    private static boolean hadNestedArchives(JsonNode manifest, int index) {
        String prefix = String.format(Locale.ROOT, "shard-%05d-", index);
        for (JsonNode s : manifest.path("shards")) {
            if (s.get("file").asText().startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static String fmt(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
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
