package dev.convbert.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.io.AtomicFiles;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.ParamGroup;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.core.safetensors.Safetensors;
import dev.convbert.core.safetensors.SafetensorsFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Crash-safe training checkpoints under an output directory. A checkpoint is a directory {@code checkpoint-<step>}
 * (model.safetensors, optimizer.safetensors, trainer_state.json), written completely and fsynced first; only then
 * does the pointer file {@code checkpoint.json} move to it (an atomic rename). A kill at any instant leaves the pointer
 * on the previous complete checkpoint; directories it does not name are leftovers and are deleted.
 */
public final class Checkpoints {
    public static final String POINTER = ModelDir.RUN_CHECKPOINT;
    public static final String MODEL = "model.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final Runnable beforeCommit;

    public Checkpoints(Path outputDir) {
        this(outputDir, () -> { });
    }

    /**
     * @param beforeCommit runs after a checkpoint's files are complete and before the pointer names it: the one instant
     *                     at which a crash must leave the previous checkpoint current (a crash-consistency test stops there)
     */
    public Checkpoints(Path outputDir, Runnable beforeCommit) {
        this.dir = outputDir;
        this.beforeCommit = beforeCommit;
    }

    /** A loaded checkpoint. */
    public record Loaded(Path dir, long step, Map<String, SafeTensor> model, Map<String, SafeTensor> optimizer, ObjectNode state) {}

    public void save(long step, List<SafeTensor> model, List<SafeTensor> optimizer, ObjectNode state) throws IOException {
        String name = String.format("checkpoint-%08d", step);
        Path target = dir.resolve(name);
        AtomicFiles.deleteTree(target);
        Files.createDirectories(target);
        Safetensors.write(target.resolve(MODEL), model, Map.of("format", "pt"));
        Safetensors.write(target.resolve(OPTIMIZER), optimizer, Map.of());
        state.put("step", step);
        AtomicFiles.writeString(target.resolve(STATE), JSON.writeValueAsString(state));
        beforeCommit.run();
        ObjectNode pointer = JSON.createObjectNode().put("step", step).put("dir", name);
        AtomicFiles.writeString(dir.resolve(POINTER), JSON.writeValueAsString(pointer));
        removeOthers(name);
    }

    /**
     * The checkpoint to continue from: with {@code resume} the latest one (an error when there is none); without, empty
     * — and an error when the directory already holds a run, so nothing is overwritten by accident.
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
            g.parameter().getArray().set(t.toFloats());
        }
        optimizer.restore(ck.optimizer(), groups, ck.state().get("updates").asLong(), ck.dir().resolve(OPTIMIZER).toString());
        return ck.state();
    }

    /** The checkpoint the pointer names, or empty when there is none. */
    public Optional<Loaded> latest() throws IOException {
        Path pointer = dir.resolve(POINTER);
        if (!Files.isRegularFile(pointer)) {
            return Optional.empty();
        }
        JsonNode p = read(pointer);
        if (!p.has("dir") || !p.has("step")) {
            throw new CheckpointException(pointer + ": expected {\"step\": N, \"dir\": \"checkpoint-…\"}");
        }
        Path ck = dir.resolve(p.get("dir").asText());
        Path stateFile = ck.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointException(stateFile + ": missing; the checkpoint named by " + pointer + " is incomplete");
        }
        ObjectNode state = (ObjectNode) read(stateFile);
        try {
            var model = Safetensors.read(ck.resolve(MODEL)).tensors();
            var opt = Safetensors.read(ck.resolve(OPTIMIZER)).tensors();
            return Optional.of(new Loaded(ck, p.get("step").asLong(), model, opt, state));
        } catch (SafetensorsFormatException e) {
            throw new CheckpointException(ck + "/" + e.getMessage());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CheckpointException(e.getFile() + ": missing; the checkpoint is incomplete");
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
    }

    private static JsonNode read(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
    }

    private void removeOthers(String keep) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (Files.isDirectory(p) && n.startsWith("checkpoint-") && !n.equals(keep)) {
                    AtomicFiles.deleteTree(p);
                }
            }
        }
    }
}
