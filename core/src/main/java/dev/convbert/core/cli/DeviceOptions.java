package dev.convbert.core.cli;

import dev.convbert.core.InvalidInputException;
import picocli.CommandLine.Option;

/**
 * {@code --device} of the commands that predict with either kind of model (predict, predict-glue): a model directory
 * runs in DJL, an {@code .onnx} in ONNX Runtime, which also knows its own providers' names.
 */
public final class DeviceOptions {
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu[:N] (default ${DEFAULT-VALUE}); for an .onnx also "
            + "cuda[:N] or tensorrt[:N] (ONNX Runtime's providers; gpu means cuda).")
    String device = "cpu";

    /** The device as {@link dev.convbert.core.predict.PredictorProvider#openAny} takes it, checked. */
    public String device() {
        if (!device.matches("(cpu|gpu|cuda|tensorrt)(:\\d+)?")) {
            throw new InvalidInputException("--device must be cpu, gpu[:N], cuda[:N] or tensorrt[:N], found \"" + device + "\"");
        }
        return device;
    }
}
