package dev.convbert.core;

import java.nio.file.Files;
import java.nio.file.Path;

/** The committed fixtures under the repository's {@code testdata/} (the build passes its path). */
public final class TestData {
    private TestData() {}

    public static Path path(String relative) {
        String root = System.getProperty("convbert.testdata", "../testdata");
        Path p = Path.of(root).resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("test fixture missing: " + p.toAbsolutePath());
        }
        return p;
    }

    public static Path vocab() {
        return path("vocab/bert-base-uncased-vocab.txt");
    }
}
