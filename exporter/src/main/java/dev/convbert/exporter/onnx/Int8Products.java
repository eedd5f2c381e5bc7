package dev.convbert.exporter.onnx;

import java.nio.file.Path;

import static dev.convbert.exporter.onnx.GraphBuilder.FLOAT;

/**
 * The int8 form of an encoder dense product in the graph: weights symmetric int8 per output column, the input uint8 —
 * quantised per run (dynamic) or at a calibrated fixed range (static).
 */
final class Int8Products {
    private final ExportWeights weights;
    /** Static int8's ranges; null: dynamic. */
    private final Int8Calibration calibration;
    private final Path weightsFile;

    Int8Products(ExportWeights weights, Int8Calibration calibration, Path weightsFile) {
        this.weights = weights;
        this.calibration = calibration;
        this.weightsFile = weightsFile;
    }

    /**
     * x · W + b with W symmetric int8 per output column (scale = max|column| / 127) and x uint8: quantised per run
     * (DynamicQuantizeLinear → MatMulInteger → Cast → Mul by (x scale · column scales) → Add bias, the shape ONNX
     * Runtime fuses into one DynamicQuantizeMatMul), or, with a calibration, at the fixed range measured for
     * {@code calibrated} (QuantizeLinear → MatMulInteger → Cast → Mul by the constant scales → Add bias): no pass over
     * x to find its range.
     */
    String product(GraphBuilder g, String x, String name, String calibrated, int in, int out, float[] weightT, float[] bias) {
        Int8Columns q = Int8Columns.quantize(weightT, in, out);
        String weight = g.initializerInt8(name + ".T.int8", new long[]{in, out}, q.values());
        String b = weights.initializer(g, name + ".bias", new long[]{out}, bias);
        if (calibration == null) {
            String[] xq = g.dynamicQuantizeLinear(x);
            String scales = g.mul(xq[1], weights.initializer(g, name + ".T.scale", new long[]{out}, q.scales()));
            return g.add(g.mul(g.cast(g.matMulInteger(xq[0], weight, xq[2]), FLOAT), scales), b);
        }
        float[] range = calibration.ranges().get(calibrated);
        if (range == null) {
            throw new ExportException(weightsFile, "the int8 calibration has no range for " + calibrated
                    + "; calibrate on this model (" + calibration.source() + " was measured on another)");
        }
        // x quantised at its fixed range; x scale · column scales folded into one constant vector. (The QDQ form —
        // DequantizeLinear before a float MatMul — was tried: ONNX Runtime 1.23 ran it as a float Gemm, no int8 kernel.)
        float[] sz = Int8Calibration.scaleAndZeroPoint(range);
        float[] combined = new float[out];
        for (int o = 0; o < out; o++) {
            combined[o] = sz[0] * q.scales()[o];
        }
        String zeroPoint = g.scalarUint8((int) sz[1]);
        String product = g.matMulInteger(g.quantizeLinear(x, sz[0], zeroPoint), weight, zeroPoint);
        return g.add(g.mul(g.cast(product, FLOAT), weights.initializer(g, name + ".T.xscale", new long[]{out}, combined)), b);
    }
}
