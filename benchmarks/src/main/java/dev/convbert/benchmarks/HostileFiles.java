package dev.convbert.benchmarks;

import dev.convbert.core.modeldir.ModelDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/** The damaged and malicious files reliability-cases feeds the commands, made from the committed fixtures. */
final class HostileFiles {
    private HostileFiles() {}

    /** The torch zip with its first two storages given one name: readers disagree on which copy is the weights. */
    static byte[] duplicateEntries(byte[] zip) {
        String text = new String(zip, StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([A-Za-z0-9_]+/data/)(\\d+)").matcher(text);
        List<String> names = new ArrayList<>();
        while (m.find() && names.size() < 2) {
            if (!names.contains(m.group())) {
                names.add(m.group());
            }
        }
        if (names.size() < 2 || names.get(0).length() != names.get(1).length()) {
            throw new IllegalStateException("the interop pytorch_model.bin no longer has two storages of one name length");
        }
        return text.replaceAll(java.util.regex.Pattern.quote(names.get(1)) + "(?!\\d)", names.get(0)).getBytes(StandardCharsets.ISO_8859_1);
    }

    static void flipLastByte(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[b.length - 1] ^= 1;
        Files.write(file, b);
    }

    static Path copyModel(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.WEIGHTS, ModelDir.VOCAB, ModelDir.TRAINING_METRICS)) {
            Files.copy(from.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        return to;
    }

    static Path glueCopy(Path from, Path to) throws IOException {
        Files.createDirectories(to.resolve("SST-2"));
        for (String f : List.of("train.tsv", "dev.tsv", "test.tsv")) {
            Files.copy(from.resolve("SST-2").resolve(f), to.resolve("SST-2").resolve(f));
        }
        return to;
    }

    /** Rewrites the first tensor's dtype in the safetensors header, keeping its length (F32 and I32 are both 4 bytes). */
    static void retypeFirstTensor(Path file, String dtype) throws IOException {
        byte[] b = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        int at = header.indexOf("\"F32\"");
        byte[] replacement = ("\"" + dtype + "\"").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(replacement, 0, b, 8 + at, replacement.length);
        Files.write(file, b);
    }

    /** A torch zip whose pickle asks for os.system — what a malicious checkpoint does; it must never run. */
    static byte[] evilPickle() throws IOException {
        java.io.ByteArrayOutputStream pkl = new java.io.ByteArrayOutputStream();
        pkl.write(new byte[]{(byte) 0x80, 2, 'c'});
        pkl.writeBytes("os\nsystem\n".getBytes(StandardCharsets.US_ASCII));
        byte[] cmd = "touch /tmp/convbert-pwned".getBytes(StandardCharsets.US_ASCII);
        pkl.write('X');
        pkl.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(cmd.length).array());
        pkl.writeBytes(cmd);
        pkl.write(new byte[]{(byte) 0x85, 'R', '.'});
        java.io.ByteArrayOutputStream zip = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(zip)) {
            z.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            z.write(pkl.toByteArray());
        }
        return zip.toByteArray();
    }
}
