package dev.convbert.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.core.safetensors.SafetensorsFormatException;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Crash-safe, verified training checkpoints under an output directory. A checkpoint is a directory
 * {@code checkpoint-<step>} (model.safetensors, optimizer.safetensors, trainer_state.json and {@value #CHECKSUMS}, the
 * sha256 of each). It is written completely under a temporary name, fsynced, and renamed; only then does the pointer
 * file {@code checkpoint.json} move to it (an atomic rename). A kill at any instant leaves the pointer on the previous
 * complete checkpoint, and a failed write (a full disk) leaves no partial directory. The newest {@code keep} are kept,
 * so a checkpoint damaged after it was written is not the only copy: a resume verifies the files against their
 * checksums, and falls back to the previous checkpoint, saying so, when the newest is damaged.
 */
public final class Checkpoints {
    public static final String POINTER = ModelDir.RUN_CHECKPOINT;
    public static final String MODEL = "model.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";
    public static final String CHECKSUMS = "checksums.json";
    /** Two, so that one damaged checkpoint always has a complete predecessor to fall back to. */
    public static final int DEFAULT_KEEP = 2;

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{8})");
    private static final String DAMAGED = "damaged-";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final int keep;

    /** @param keep how many checkpoints stay on disk (at least 1) */
    public Checkpoints(Path outputDir, int keep) {
        if (keep < 1) {
            throw new CheckpointException("--keep-checkpoints " + keep + ": expected 1 or more (a resume needs one)");
        }
        this.dir = outputDir;
        this.keep = keep;
    }

    /**
     * A loaded, verified checkpoint; {@code notes} say what was found on the way (a damaged newer checkpoint set aside,
     * a checkpoint too old to carry checksums), for the run's log.
     */
    public record Loaded(Path dir, long step, Map<String, SafeTensor> model, Map<String, SafeTensor> optimizer,
                         ObjectNode state, List<String> notes) {}

    /** Writes the checkpoint of {@code step} and makes it current; returns its directory's name. */
    public String save(long step, List<SafeTensor> model, List<SafeTensor> optimizer, ObjectNode state) throws IOException {
        String name = name(step);
        Path target = dir.resolve(name);
        Path tmp = AtomicFiles.tempFor(target);
        try {
            AtomicFiles.deleteTree(tmp);
            Files.createDirectories(tmp);
            Safetensors.write(tmp.resolve(MODEL), model, Map.of("format", "pt"));
            Safetensors.write(tmp.resolve(OPTIMIZER), optimizer, Map.of());
            state.put("step", step);
            AtomicFiles.writeString(tmp.resolve(STATE), JSON.writeValueAsString(state));
            ObjectNode sums = JSON.createObjectNode().put("step", step);
            ObjectNode files = sums.putObject("sha256");
            for (String f : List.of(MODEL, OPTIMIZER, STATE)) {
                files.put(f, Hashing.sha256(tmp.resolve(f)));
            }
            AtomicFiles.writeString(tmp.resolve(CHECKSUMS), JSON.writeValueAsString(sums));
            // a directory of this step left by a run that died after the rename and before the pointer moved
            AtomicFiles.deleteTree(target);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
        } catch (IOException | RuntimeException e) {
            // nothing half-written may stay (the previous checkpoint is still current)
            deleteQuietly(tmp, e);
            throw e;
        }
        // a crash from here until the pointer is written leaves the previous checkpoint current and this one on disk,
        // unnamed: a resume starts from the previous one and writes this step's directory again
        ObjectNode pointer = JSON.createObjectNode().put("step", step).put("dir", name);
        AtomicFiles.writeString(dir.resolve(POINTER), JSON.writeValueAsString(pointer));
        removeOld(step);
        return name;
    }

    /**
     * The checkpoint to continue from: with {@code resume} the newest one that verifies (an error when there is none);
     * without, empty — and an error when the directory already holds a run, so nothing is overwritten by accident.
     */
    public Optional<Loaded> open(boolean resume) throws IOException {
        if (!resume) {
            if (Files.exists(dir.resolve(POINTER))) {
                throw new CheckpointException(dir + ": already holds a run (checkpoint.json); pass --resume to continue it "
                        + "or choose a new --output");
            }
            return Optional.empty();
        }
        Optional<Loaded> loaded = latest();
        if (loaded.isEmpty()) {
            throw new CheckpointException(dir.resolve(POINTER) + ": missing; nothing to resume from");
        }
        return loaded;
    }

    /**
     * Puts a checkpoint back: checks it belongs to this run, copies every parameter and the Adam moments; returns the
     * saved trainer state.
     */
    public static ObjectNode restore(Loaded ck, ObjectNode run, List<ParamGroup> groups, AdamW optimizer) {
        requireSameRun(ck, run);
        for (ParamGroup g : groups) {
            SafeTensor t = ck.model().get(g.name());
            if (t == null) {
                throw new CheckpointException(ck.dir().resolve(MODEL) + ": no tensor \"" + g.name() + "\"");
            }
            NDArray target = g.parameter().getArray();
            // an indexed put from a new array, not NDArray.set(float[]) or copyTo (which calls it): DJL's JNI runs that
            // under libtorch's deprecated AutoNonVariableTypeMode, which printed a deprecation warning on every resume
            try (NDArray values = target.getManager().create(t.toFloats(), target.getShape())) {
                target.set(new ai.djl.ndarray.index.NDIndex("..."), values);
            }
        }
        optimizer.restore(ck.optimizer(), groups, ck.state().get("updates").asLong(), ck.dir().resolve(OPTIMIZER).toString());
        return ck.state();
    }

    /**
     * The newest checkpoint that verifies, starting at the one the pointer names, or empty when there is no pointer.
     * A damaged checkpoint is renamed {@code damaged-checkpoint-<step>} (kept for inspection, never resumed from) and the
     * previous one is tried; when none verifies, the newest one's damage is the error.
     */
    public Optional<Loaded> latest() throws IOException {
        Path pointer = dir.resolve(POINTER);
        if (!Files.isRegularFile(pointer)) {
            return Optional.empty();
        }
        JsonNode p = read(pointer);
        if (!p.path("dir").isTextual() || !p.path("step").canConvertToLong()) {
            throw new CheckpointException(pointer + ": expected {\"step\": N, \"dir\": \"checkpoint-…\"}");
        }
        String named = p.get("dir").asText();
        Matcher m = NAME.matcher(named);
        if (!m.matches() || Long.parseLong(m.group(1)) != p.get("step").asLong()) {
            throw new CheckpointException(pointer + ": field \"dir\" is \"" + named + "\"; expected the checkpoint-"
                    + String.format("%08d", p.get("step").asLong()) + " directory inside " + dir
                    + " (a pointer may not lead outside the run)");
        }
        List<String> notes = new ArrayList<>();
        long pointed = Long.parseLong(m.group(1));
        if (!Files.isDirectory(dir.resolve(named))) {
            notes.add(dir.resolve(named) + ": named by " + POINTER + " but missing; falling back to the previous checkpoint");
        }
        CheckpointException first = null;
        for (Path ck : candidates(pointed)) {
            try {
                Loaded loaded = load(ck, notes);
                return Optional.of(new Loaded(loaded.dir(), loaded.step(), loaded.model(), loaded.optimizer(),
                        loaded.state(), List.copyOf(notes)));
            } catch (CheckpointException damage) {
                if (first == null) {
                    first = damage;
                }
                Path aside = ck.resolveSibling(DAMAGED + ck.getFileName());
                AtomicFiles.deleteTree(aside);
                Files.move(ck, aside);
                notes.add(damage.getMessage() + "; set aside as " + aside.getFileName() + ", falling back to the "
                        + "previous checkpoint");
            }
        }
        if (first == null) {
            throw new CheckpointException(dir.resolve(named) + ": missing; the checkpoint named by " + pointer
                    + " is not there, and no earlier one is either; start the run again");
        }
        throw new CheckpointException(first.getMessage() + "; no earlier checkpoint verifies either"
                + (notes.size() > 1 ? " (" + (notes.size() - 1) + " more tried)" : "") + "; start the run again");
    }

    /** The pointer's checkpoint, then the older complete ones, newest first. */
    private List<Path> candidates(long pointed) throws IOException {
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(dir.resolve(name(pointed)))) {
            out.add(dir.resolve(name(pointed)));
        }
        for (Path ck : committed()) {
            if (step(ck) < pointed) {
                out.add(ck);
            }
        }
        return out;
    }

    private Loaded load(Path ck, List<String> notes) throws IOException {
        verify(ck, notes);
        Path stateFile = ck.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointException(stateFile + ": missing; the checkpoint is incomplete");
        }
        ObjectNode state = (ObjectNode) read(stateFile);
        try {
            var model = Safetensors.read(ck.resolve(MODEL)).tensors();
            var opt = Safetensors.read(ck.resolve(OPTIMIZER)).tensors();
            return new Loaded(ck, step(ck), model, opt, state, List.of());
        } catch (SafetensorsFormatException e) {
            throw new CheckpointException(ck + "/" + e.getMessage());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CheckpointException(e.getFile() + ": missing; the checkpoint is incomplete");
        }
    }

    /** Every file against the sha256 recorded when it was written; checkpoints from before the checksums only note it. */
    private static void verify(Path ck, List<String> notes) throws IOException {
        Path sums = ck.resolve(CHECKSUMS);
        if (!Files.isRegularFile(sums)) {
            notes.add(ck.getFileName() + ": written before checkpoints carried checksums; resumed from it unverified");
            return;
        }
        JsonNode files = read(sums).path("sha256");
        for (String f : List.of(MODEL, OPTIMIZER, STATE)) {
            Path file = ck.resolve(f);
            String expected = files.path(f).asText("");
            if (!Files.isRegularFile(file)) {
                throw new CheckpointException(file + ": missing; the checkpoint is incomplete");
            }
            String found = Hashing.sha256(file);
            if (!found.equals(expected)) {
                throw new CheckpointException(file + ": damaged since it was written (sha256 " + found.substring(0, 12)
                        + "…, recorded " + (expected.length() >= 12 ? expected.substring(0, 12) + "…" : "nothing") + ")");
            }
        }
    }

    /**
     * Fields of {@code expected} whose value differs in the checkpoint's {@code run} section: resuming with other
     * settings would not continue the same run.
     */
    public static void requireSameRun(Loaded loaded, ObjectNode expected) {
        JsonNode stored = loaded.state().get("run");
        if (stored == null) {
            throw new CheckpointException(loaded.dir().resolve(STATE) + ": no \"run\" section");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode s = stored.get(e.getKey());
            boolean same = s != null && (s.equals(e.getValue())
                    || (s.isNumber() && e.getValue().isNumber() && s.asDouble() == e.getValue().asDouble()));
            if (!same) {
                throw new CheckpointException(loaded.dir().resolve(STATE) + ": field \"" + e.getKey() + "\" is "
                        + (s == null ? "absent" : s) + " in the checkpoint but " + e.getValue()
                        + " now; resume with the original settings or start a new --output");
            }
        }
        // settings written only when not the default (classifier_head, precision) are absent now when the default is asked
        for (Iterator<Map.Entry<String, JsonNode>> it = stored.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!expected.has(e.getKey())) {
                throw new CheckpointException(loaded.dir().resolve(STATE) + ": field \"" + e.getKey() + "\" is " + e.getValue()
                        + " in the checkpoint but not set now (the default); resume with the original settings or start a new --output");
            }
        }
    }

    private static JsonNode read(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String name(long step) {
        return String.format("checkpoint-%08d", step);
    }

    private static long step(Path ck) {
        Matcher m = NAME.matcher(ck.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The complete checkpoint directories, newest first. */
    private List<Path> committed() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isDirectory(p) && step(p) >= 0)
                    .sorted(Comparator.comparingLong(Checkpoints::step).reversed()).toList();
        }
    }

    /**
     * Keeps the {@code keep} newest checkpoints up to {@code current}; removes older ones, newer ones (left by a run that
     * was resumed from an earlier checkpoint) and temporary directories of interrupted writes.
     */
    private void removeOld(long current) throws IOException {
        int kept = 0;
        for (Path ck : committed()) {
            if (step(ck) <= current && kept < keep) {
                kept++;
            } else {
                AtomicFiles.deleteTree(ck);
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (Files.isDirectory(p) && p.getFileName().toString().startsWith("checkpoint-") && AtomicFiles.isTemp(p)) {
                    AtomicFiles.deleteTree(p);
                }
            }
        }
    }

    private static void deleteQuietly(Path tmp, Exception cause) {
        try {
            AtomicFiles.deleteTree(tmp);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
