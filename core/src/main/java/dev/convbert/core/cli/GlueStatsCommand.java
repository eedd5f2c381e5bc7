package dev.convbert.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code convbert glue-stats}: rows per task and split of a GLUE directory, and which expected files are missing. */
@Command(name = "glue-stats",
        description = "Count the rows of every GLUE task and split (reading each file with the task's own reader). --json "
                + "prints {\"CoLA\": {\"train\": 8551, …}, …}; a missing split is null.",
        footer = "  convbert glue-stats --data-dir $GLUE_DIR --json")
public final class GlueStatsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data-dir", required = true, description = "GLUE in its original layout (CoLA/, SST-2/, …, diagnostic/).")
    Path dataDir;

    @Option(names = "--json", description = "Machine-readable output.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(dataDir)) {
            throw new dev.convbert.core.InvalidInputException(dataDir + ": not a directory; expected the GLUE data dir");
        }
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        List<String> missing = new ArrayList<>();
        if (!json) {
            out.printf("%-6s %-16s %8s%n", "task", "split", "rows");
        }
        for (GlueTask task : GlueTask.values()) {
            ObjectNode t = root.putObject(task.glueName());
            for (GlueTask.Split split : task.splits()) {
                Path file = GlueReader.file(dataDir, task, split.name());
                if (!Files.isRegularFile(file)) {
                    missing.add(dataDir.relativize(file).toString());
                    t.putNull(split.name());
                    continue;
                }
                GlueReader.Result r = GlueReader.readFile(file, task, split);
                t.put(split.name(), r.examples().size());
                if (!json) {
                    out.printf("%-6s %-16s %8d%s%n", task.glueName(), split.name(), r.examples().size(),
                            r.skipped() > 0 ? "  (" + r.skipped() + " short rows skipped, as GLUE does)" : "");
                }
            }
        }
        if (json) {
            out.println(mapper.writeValueAsString(root));
        } else if (!missing.isEmpty()) {
            out.println();
            out.println("missing (" + missing.size() + "): " + String.join(", ", missing));
        }
        out.flush();
        return ExitCodes.OK;
    }
}
