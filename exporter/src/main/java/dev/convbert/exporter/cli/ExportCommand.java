package dev.convbert.exporter.cli;

import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.exporter.onnx.ExportOptions;
import dev.convbert.exporter.onnx.OnnxExporter;
import dev.convbert.exporter.onnx.ConvBertOps;
import dev.convbert.exporter.onnx.SpanDynamicConvFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code convbert export}: a model directory to ONNX. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a fine-tuned model directory (HF layout) to ONNX (IR 8, opset 17).",
                "Each span-based dynamic convolution is one dev.convbert:SpanDynamicConv node (a model-local function).",
                "Writes NAME.config.json, NAME.vocab.txt and NAME.card.json beside NAME.onnx (files of its own).",
                "", "Example:", "  convbert export --model runs/sst2 --output export/sst2.onnx"})
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
        var precision = fp16 ? ExportOptions.Precision.FLOAT16 : int8 ? ExportOptions.Precision.INT8 : ExportOptions.Precision.FLOAT32;
        long started = System.nanoTime();
        var exporter = new OnnxExporter(ModelDir.open(model), ExportOptions.builder().precision(precision)
                .inline(inline).hiddenStates(hiddenStates).formulation(formulation).unfused(unfused).ortOperators(ortOperators).build());
        var proto = exporter.export(output);
        long convNodes = proto.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(ConvBertOps.SPAN_DYNAMIC_CONV.opName())).count();
        System.out.printf(java.util.Locale.ROOT, "wrote %s (%d nodes in the graph, %d SpanDynamicConv, %s) in %.1f s%n", output,
                proto.getGraph().getNodeCount(), convNodes, precision.label(), (System.nanoTime() - started) / 1e9);
        return ExitCodes.OK;
    }
}
