package dev.convbert.exporter.onnx;

import java.util.Map;

/**
 * The activation ranges of static int8: for each quantised product, keyed by its weights' name (e.g.
 * {@code convbert.encoder.layer.0.attention.self.query+…+conv_out_layer}), the smallest and largest value its input
 * took over the calibration rows. Activations are then quantised with a fixed scale and zero point instead of one
 * computed per run ({@link Calibrator} measures them).
 *
 * @param source what the ranges were measured on, for the model's metadata
 */
public record Int8Calibration(Map<String, float[]> ranges, String source) {
    public Int8Calibration {
        ranges = Map.copyOf(ranges);
    }

    /** uint8 scale and zero point covering [min, max] (0 always representable, as ONNX's QuantizeLinear needs). */
    static float[] scaleAndZeroPoint(float[] range) {
        float lo = Math.min(0f, range[0]);
        float hi = Math.max(0f, range[1]);
        float scale = hi > lo ? (hi - lo) / 255f : 1f;
        int zp = Math.max(0, Math.min(255, Math.round(-lo / scale)));
        return new float[]{scale, zp};
    }
}
