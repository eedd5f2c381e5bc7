package dev.convbert.exporter.cli;

import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.exporter.onnx.Calibrator;
import dev.convbert.exporter.onnx.ConvBertOps;
import dev.convbert.exporter.onnx.Int8Calibration;
import dev.convbert.exporter.onnx.SpanDynamicConvFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code convbert export}: a model directory to ONNX. */
@Command(name = "export",
        description = "Export a fine-tuned model directory (HF layout) to ONNX (IR 8, opset 17). Each span-based dynamic "
                + "convolution is one dev.convbert:SpanDynamicConv node (a model-local function). Writes "
                + "NAME.config.json, NAME.vocab.txt and NAME.card.json beside NAME.onnx (files of its own).",
        footer = "  convbert export --model runs/sst2 --output export/sst2.onnx")
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model directory (config.json, model.safetensors, vocab.txt).")
    Path model;

    @Option(names = "--output", required = true, description = "The .onnx file to write.")
    Path output;

    @Option(names = "--fp16", description = "float16 weights and compute (LayerNorm statistics and softmax in float32).")
    boolean fp16;

    @Option(names = "--int8", description = "Dynamic int8 quantisation of the encoder's dense products (weights int8 per output column, "
            + "activations quantised at run time; the rest float32). Faster on CPUs with int8 dot products "
            + "(AVX-512 VNNI, AVX-VNNI); changes accuracy: score it (the gate allows 0.01).")
    boolean int8;

    @Option(names = "--calibration-data", paramLabel = "GLUE_DIR", description = "With --int8: static int8, activations "
            + "quantised at ranges measured on --calibration-rows rows of --calibration-task's train split (default: none, "
            + "dynamic int8: ranges found per run).")
    Path calibrationData;

    @Option(names = "--calibration-task", paramLabel = "TASK", description = "The GLUE task whose train split calibrates "
            + "(default: the one the model was fine-tuned on, from its training_metrics.json).")
    String calibrationTask;

    @Option(names = "--calibration-rows", defaultValue = "" + Calibrator.DEFAULT_ROWS,
            description = "Train rows drawn (seed 42) to calibrate on (default ${DEFAULT-VALUE}).")
    int calibrationRows;

    @Option(names = "--inline", description = "Expand the SpanDynamicConv function in the graph (for parsers without local functions, e.g. TensorRT).")
    boolean inline;

    @Option(names = "--hidden-states", description = "Also output last_hidden_state [batch, sequence, hidden].")
    boolean hiddenStates;

    @Option(names = "--conv-formulation", defaultValue = "BANDED_MATMUL",
            description = "How the window sum is written: BANDED_MATMUL (default), SHIFTED_SLICES or GATHER_UNFOLD (docs/EXPORT.md).")
    SpanDynamicConvFunction.Formulation formulation;

    @Option(names = "--ort-operators", description = "Write ONNX Runtime's fused contrib operators (com.microsoft MultiHeadAttention, "
            + "SkipLayerNormalization, EmbedLayerNormalization) where its optimiser does not fuse the standard "
            + "graph (float32 or int8; ONNX Runtime only, other runtimes need the default export).")
    boolean ortOperators;

    @Option(names = "--unfused", description = "Lay the graph out as torch.onnx writes HF's model: four projections per layer, the last layer "
            + "over every token. Slower, same answers: the baseline the benchmark measures against.")
    boolean unfused;

    @Override
    public Integer call() throws Exception {
        if (ortOperators && (fp16 || unfused)) {
            throw new ParameterException(spec.commandLine(), "--ort-operators goes with a float32 or int8 export, not --fp16 or --unfused");
        }
        if (fp16 && int8) {
            throw new ParameterException(spec.commandLine(), "--fp16 and --int8 exclude each other: pick one precision");
        }
        if (calibrationData != null && !int8) {
            throw new ParameterException(spec.commandLine(), "--calibration-data calibrates static int8: add --int8");
        }
        var precision = fp16 ? ExportOptions.Precision.FLOAT16 : int8 ? ExportOptions.Precision.INT8 : ExportOptions.Precision.FLOAT32;
        long started = System.nanoTime();
        ModelDir md = ModelDir.open(model);
        ExportOptions options = ExportOptions.builder().precision(precision).inline(inline).hiddenStates(hiddenStates)
                .formulation(formulation).unfused(unfused).ortOperators(ortOperators).build();
        if (calibrationData != null) {
            options = options.toBuilder().calibration(calibration(md, options)).build();
        }
        var exporter = new OnnxExporter(md, options);
        var proto = exporter.export(output);
        long convNodes = proto.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(ConvBertOps.SPAN_DYNAMIC_CONV.opName())).count();
        System.out.printf(java.util.Locale.ROOT, "wrote %s (%d nodes in the graph, %d SpanDynamicConv, %s) in %.1f s%n", output,
                proto.getGraph().getNodeCount(), convNodes, precision.label(), (System.nanoTime() - started) / 1e9);
        return ExitCodes.OK;
    }

    private Int8Calibration calibration(ModelDir md, ExportOptions target) throws java.io.IOException {
        String taskId = calibrationTask;
        if (taskId == null) {
            var tm = md.trainingMetrics();
            if (tm == null || !tm.has("task")) {
                throw new ParameterException(spec.commandLine(), model + " records no fine-tuning task: give --calibration-task");
            }
            taskId = tm.get("task").asText();
        }
        GlueTask task = GlueTask.fromId(taskId);
        var rows = Calibrator.glueSample(md, calibrationData, task, calibrationRows, 42);
        return Calibrator.calibrate(md, target, rows, calibrationRows + " rows of " + task.glueName() + " train (seed 42)");
    }
}
