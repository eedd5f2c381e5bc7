package dev.convbert.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.checkpoint.Checkpoint;
import dev.convbert.core.io.Hashing;
import dev.convbert.core.safetensors.SafeTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code convbert inspect-checkpoint}: every tensor of a TF checkpoint, pytorch_model.bin or safetensors file. */
@Command(name = "inspect-checkpoint",
        description = "List every tensor of a checkpoint: name, dtype (safetensors names), shape, and the sha256 of its "
                + "row-major little-endian bytes. Reads TF1 checkpoints (a prefix, its .index, its folder or "
                + "'checkpoint' file), pytorch_model.bin (zip or legacy; restricted unpickler, nothing executed) and "
                + "model.safetensors. --json prints {name: {\"dtype\", \"shape\", \"sha256\"}}.",
        footer = "  convbert inspect-checkpoint convbert_small/model.ckpt-1000000 --json > tensors.json")
public final class InspectCheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "The checkpoint: TF prefix/.index/folder, pytorch_model.bin, .safetensors or a model directory.")
    Path path;

    @Option(names = "--json", description = "Machine-readable output on stdout.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Checkpoint c = Checkpoint.read(path);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, SafeTensor> sorted = new TreeMap<>(c.tensors());
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = mapper.createObjectNode();
            for (SafeTensor t : sorted.values()) {
                ObjectNode o = root.putObject(t.name());
                o.put("dtype", t.dtype().name());
                var shape = o.putArray("shape");
                Arrays.stream(t.shape()).forEach(shape::add);
                o.put("sha256", Hashing.sha256(t.data()));
            }
            out.println(mapper.writeValueAsString(root));
        } else {
            int width = sorted.keySet().stream().mapToInt(String::length).max().orElse(4);
            long elements = 0;
            for (SafeTensor t : sorted.values()) {
                out.printf("%-" + width + "s  %-4s  %-18s  %s%n", t.name(), t.dtype(), Arrays.toString(t.shape()),
                        Hashing.sha256(t.data()));
                elements += t.numel();
            }
            out.printf("%s: %s, %d tensors, %,d elements%n", c.source(), c.format(), sorted.size(), elements);
        }
        PrintWriter err = spec.commandLine().getErr();
        c.notRead().forEach((name, why) -> err.println("not listed: " + name + " (" + why + ")"));
        out.flush();
        err.flush();
        return ExitCodes.OK;
    }
}
