package dev.convbert.trainer.pretrain;

import dev.convbert.core.io.Hashing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * One shard to build: files of the corpus tree, or ({@code member} ≥ 0) one archive found inside the tar
 * {@code inputs.get(0)}, held in {@code bytes}.
 */
record ShardPlan(int index, int member, List<Path> inputs, String memberName, byte[] bytes) {
    private static final int FILES_PER_SHARD = 32;

    static ShardPlan files(int index, List<Path> inputs) {
        return new ShardPlan(index, -1, inputs, null, null);
    }

    String fileName() {
        return member < 0 ? String.format(Locale.ROOT, "shard-%05d.bin", index)
                : String.format(Locale.ROOT, "shard-%05d-%05d.bin", index, member);
    }

    /**
     * What the shard is made of, so a re-run can tell it is unchanged: each file's path inside the corpus and the
     * sha256 of its content, or a member archive's name and bytes. Content, not size and mtime: an edit that keeps
     * both ({@code cp -p}, {@code rsync -t}, a same-length fix) must rebuild the shard. Hashing costs a fraction of
     * decompressing and tokenising the same bytes (docs/PRETRAIN_DATA.md has the measurement), so it is done always.
     */
    String fingerprint(Path corpus) throws IOException {
        if (member >= 0) {
            java.security.MessageDigest md = sha256();
            md.update(memberName.substring(memberName.indexOf('!')).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            md.update(bytes);
            return java.util.HexFormat.of().formatHex(md.digest());
        }
        StringBuilder sb = new StringBuilder();
        for (Path p : inputs) {
            sb.append(corpus.relativize(p)).append('\t').append(Hashing.sha256(p)).append('\n');
        }
        return Hashing.sha256(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    List<String> inputNames(Path corpus) {
        return member < 0 ? inputs.stream().map(p -> corpus.relativize(p).toString()).toList()
                : List.of(corpus.relativize(Path.of(memberName.substring(0, memberName.indexOf('!'))))
                + memberName.substring(memberName.indexOf('!')));
    }

    /**
     * The corpus's files, cut into shards. Symbolic links are not followed (a link can point anywhere on the machine);
     * each is reported in {@code skipped}.
     */
    static List<ShardPlan> plan(Path corpus, List<String> skipped) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(corpus)) {
            files = s.filter(p -> {
                if (Files.isSymbolicLink(p)) {
                    skipped.add(p + ": a symbolic link; not followed (copy the file into the corpus to include it)");
                    return false;
                }
                return Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            }).filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".txt") || n.endsWith(".xz") || n.endsWith(".gz") || n.endsWith(".tgz") || n.endsWith(".tar");
            }).sorted().toList();
        }
        List<ShardPlan> plans = new ArrayList<>();
        List<Path> loose = new ArrayList<>();
        for (Path f : files) {
            String n = f.getFileName().toString();
            if (!n.endsWith(".txt") && !n.endsWith(".txt.xz") && !n.endsWith(".txt.gz")) {
                plans.add(ShardPlan.files(plans.size(), List.of(f)));   // an archive, or an xz of unknown content
            } else {
                loose.add(f);
                if (loose.size() == FILES_PER_SHARD) {
                    plans.add(ShardPlan.files(plans.size(), List.copyOf(loose)));
                    loose.clear();
                }
            }
        }
        if (!loose.isEmpty()) {
            plans.add(ShardPlan.files(plans.size(), List.copyOf(loose)));
        }
        return plans;
    }
}
