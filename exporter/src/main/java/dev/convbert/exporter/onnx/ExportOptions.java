package dev.convbert.exporter.onnx;

/**
 * How to export: float16 weights and compute (LayerNorm statistics and softmaxes in float32, int64 inputs and float32
 * outputs unchanged); the convolution inlined instead of a local function; an extra {@code last_hidden_state} output;
 * and the window formulation (a banded matrix product by default; shifted slices and Gather/unfold for measurement).
 */
public record ExportOptions(boolean fp16, boolean inline, boolean hiddenStates, SpanDynamicConvFunction.Formulation formulation) {
    public static ExportOptions defaults() {
        return new ExportOptions(false, false, false, SpanDynamicConvFunction.Formulation.BANDED_MATMUL);
    }
}
