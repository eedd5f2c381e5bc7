package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.core.InvalidInputException;

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
