package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.io.Hashing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shards of a {@code build-data} output, memory-mapped, as one indexable list of examples. */
public final class PretrainData {
    private final List<ShardFormat.Reader> shards = new ArrayList<>();
    private final int[] starts;
    private final int size;
    private final JsonNode manifest;

    public PretrainData(Path dir) throws IOException {
        Path m = dir.resolve("manifest.json");
        if (!Files.isRegularFile(m)) {
            throw new InvalidInputException(m + ": missing; build the data first with 'convbert build-data'");
        }
        manifest = new ObjectMapper().readTree(m.toFile());
        int total = 0;
        List<Integer> s = new ArrayList<>();
        for (JsonNode shard : manifest.get("shards")) {
            ShardFormat.Reader r = new ShardFormat.Reader(dir.resolve(shard.get("file").asText()));
            shards.add(r);
            s.add(total);
            total += r.size();
        }
        if (total == 0) {
            throw new InvalidInputException(dir + ": the shards hold no examples");
        }
        starts = s.stream().mapToInt(Integer::intValue).toArray();
        size = total;
    }

    /**
     * The vocabulary to pre-train with: the {@code vocab.txt} that build-data copied beside the shards (its sha256 in the
     * manifest), or {@code given}, which must be that same file by content. Data built before the copy existed needs
     * {@code given}, checked by size against the manifest.
     */
    public static Path vocab(Path dataDir, Path given) throws IOException {
        Path m = dataDir.resolve("manifest.json");
        if (!Files.isRegularFile(m)) {
            throw new InvalidInputException(m + ": missing; build the data first with 'convbert build-data'");
        }
        JsonNode manifest = new ObjectMapper().readTree(m.toFile());
        String recorded = manifest.path(DataBuilder.VOCAB_SHA256).asText(null);
        Path copy = dataDir.resolve(DataBuilder.VOCAB_FILE);
        if (recorded == null) {
            if (given == null) {
                throw new InvalidInputException(m + ": records no vocabulary (built by an older build-data); pass --vocab "
                        + "with the vocab.txt the data was built with, or rebuild the data");
            }
            int size = dev.convbert.core.tokenize.Vocab.read(given).size();
            if (size != manifest.path("vocab_size").asInt()) {
                throw new InvalidInputException(given + ": has " + size + " tokens but " + m + " was built with "
                        + manifest.path("vocab_size").asInt());
            }
            return given;
        }
        if (!Files.isRegularFile(copy) || !Hashing.sha256(copy).equals(recorded)) {
            throw new InvalidInputException(copy + ": missing or changed since build-data wrote it (sha256 recorded in "
                    + m + "); rebuild the data");
        }
        if (given != null && !Hashing.sha256(given).equals(recorded)) {
            throw new InvalidInputException(given + ": is not the vocabulary the data was built with (" + copy
                    + ", sha256 " + recorded.substring(0, 12) + "…); token ids would mean other words. Drop --vocab to use "
                    + copy + ", or rebuild the data with " + given);
        }
        return copy;
    }

    /**
     * What the examples are, by content: the sha256 of every shard as build-data recorded it, in order. Data rebuilt in
     * place from an edited corpus keeps its shard names and often its example count, never its hashes.
     */
    public String fingerprint() {
        StringBuilder sb = new StringBuilder();
        for (JsonNode shard : manifest.get("shards")) {
            sb.append(shard.path("file").asText()).append('\t').append(shard.path("sha256").asText()).append('\n');
        }
        return Hashing.sha256(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public JsonNode manifest() {
        return manifest;
    }

    public int size() {
        return size;
    }

    public int[] ids(int i) {
        int s = shard(i);
        return shards.get(s).ids(i - starts[s]);
    }

    public int firstSegmentLength(int i) {
        int s = shard(i);
        return shards.get(s).firstSegmentLength(i - starts[s]);
    }

    public int[] lengths() {
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            out[i] = ids(i).length;
        }
        return out;
    }

    private int shard(int i) {
        int lo = 0, hi = starts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= i) lo = mid; else hi = mid - 1;
        }
        return lo;
    }
}
