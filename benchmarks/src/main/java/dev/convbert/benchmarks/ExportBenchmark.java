package dev.convbert.benchmarks;

import ai.djl.Device;
import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.exporter.onnx.SpanDynamicConvFunction;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.trainer.model.TaskModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code convbert benchmark-export}: ONNX Runtime CPU latency of the fused export, the inline export, and the
 * shifted-slice and Gather/unfold formulations of the convolution window, at batch 1 and 32, plus which ORT fusions fire (read from the
 * optimised-model dump).
 */
@Command(name = "benchmark-export",
        description = "Latency of fused vs inline vs gather-unfold exports in ONNX Runtime (CPU), and the fusions ORT applies.",
        footer = "  convbert benchmark-export --config medium-small --seq 128 --output docs/results/export.json")
public final class ExportBenchmark implements Callable<Integer> {
    @Option(names = "--model", description = "A model directory; default: a freshly initialised --config model.")
    Path model;

    @picocli.CommandLine.Mixin
    ConfigOption config = new ConfigOption();

    @Option(names = "--seq", defaultValue = "128", description = "Sequence length timed (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--batches", split = ",", defaultValue = "1,32", description = "Batch sizes timed (default ${DEFAULT-VALUE}).")
    int[] batches;

    @Option(names = "--repeats", defaultValue = "10", description = "Timed runs per cell (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--work-dir", description = "Where the exports and ORT's optimised dumps go (default: a temp dir).")
    Path workDir;

    @Option(names = "--settle-ms", defaultValue = Settle.DEFAULT_MS,
            description = "Idle time before each timed run, so one variant's spinning threads do not slow the next (default ${DEFAULT-VALUE}).")
    int settleMs;

    @picocli.CommandLine.Mixin
    ResultsOutput output = new ResultsOutput();

    record Variant(String name, ExportOptions options) {}

    @Override
    public Integer call() throws Exception {
        Path work = workDir != null ? workDir : Files.createTempDirectory("convbert-export-bench");
        Files.createDirectories(work);
        Path dir = model;
        if (dir == null) {
            dir = work.resolve("model");
            try (TaskModel m = TaskModel.initialise(config.config(), Device.cpu(), 1)) {
                m.save(dir, null);
            }
        }
        ModelDir md = ModelDir.open(dir);
        List<Variant> variants = List.of(
                new Variant("fused", ExportOptions.defaults()),
                new Variant("inline", ExportOptions.builder().inline(true).build()),
                new Variant("shifted-slices", ExportOptions.builder().formulation(SpanDynamicConvFunction.Formulation.SHIFTED_SLICES).build()),
                new Variant("gather-unfold", ExportOptions.builder().formulation(SpanDynamicConvFunction.Formulation.GATHER_UNFOLD).build()));
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = mapper.createObjectNode();
        result.put("model", dir.toString());
        result.put("seq", seq);
        result.put("repeats", repeats);
        OrtModel[] sessions = new OrtModel[variants.size()];
        try {
            for (int v = 0; v < variants.size(); v++) {
                Path onnx = work.resolve(variants.get(v).name() + ".onnx");
                new OnnxExporter(md, variants.get(v).options()).export(onnx);
                Path optimized = work.resolve(variants.get(v).name() + ".optimized.onnx");
                sessions[v] = OrtModel.open(onnx, ExecutionProvider.cpu(), optimized, false);
                result.putPOJO(variants.get(v).name() + "_optimized_op_counts", opCounts(optimized));
            }
            Random rnd = new Random(1);
            for (int b : batches) {
                var inputs = SyntheticIds.batch(b, seq, md.config().vocabSize(), rnd.nextLong());
                long[][] ids = inputs.inputIds();
                long[][] mask = inputs.attentionMask();
                long[][] types = inputs.tokenTypeIds();
                double[][] t = new double[variants.size()][repeats];
                for (OrtModel s : sessions) {
                    s.run(ids, types, mask, false);       // warm-up
                }
                for (int r = 0; r < repeats; r++) {       // interleaved so all variants see the same load
                    for (int v = 0; v < variants.size(); v++) {
                        Settle.pause(settleMs);
                        sessions[v].run(ids, types, mask, false);    // wakes this session's threads, untimed
                        long start = System.nanoTime();
                        sessions[v].run(ids, types, mask, false);
                        t[v][r] = (System.nanoTime() - start) / 1e6;
                    }
                }
                for (int v = 0; v < variants.size(); v++) {
                    Arrays.sort(t[v]);
                    ObjectNode o = result.putObject(variants.get(v).name() + "_batch" + b);
                    o.put("ms_min", t[v][0]);
                    o.put("ms_median", t[v][repeats / 2]);
                    o.put("sequences_per_s_median", b * 1000.0 / t[v][repeats / 2]);
                    System.out.printf(Locale.ROOT, "batch %3d x seq %d  %-14s min %8.2f ms  median %8.2f ms  %8.1f seq/s%n",
                            b, seq, variants.get(v).name(), t[v][0], t[v][repeats / 2], b * 1000.0 / t[v][repeats / 2]);
                }
            }
        } finally {
            for (OrtModel s : sessions) {
                if (s != null) {
                    s.close();
                }
            }
        }
        System.out.println("ORT optimised graph, op counts (fused): " + result.get("fused_optimized_op_counts"));
        output.write(result);
        return ExitCodes.OK;
    }

    /** Node types in ORT's optimised dump, with the functions it may still hold. */
    static Map<String, Integer> opCounts(Path optimized) throws java.io.IOException {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized));
        Map<String, Integer> counts = new TreeMap<>();
        for (OnnxMl.NodeProto n : m.getGraph().getNodeList()) {
            counts.merge((n.getDomain().isEmpty() ? "" : n.getDomain() + ":") + n.getOpType(), 1, Integer::sum);
        }
        return counts;
    }
}
