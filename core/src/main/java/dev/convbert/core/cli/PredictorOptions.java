package dev.convbert.core.cli;

import dev.convbert.core.InvalidInputException;
import dev.convbert.core.predict.ModelSpec;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.PredictorProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * What predict and predict-glue run: either kind of model — a model directory in DJL, an {@code .onnx} in ONNX
 * Runtime, which also knows its own providers' names — on a device, in batches.
 */
public final class PredictorOptions {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu[:N] (default ${DEFAULT-VALUE}); for an .onnx also "
            + "cuda[:N] or tensorrt[:N] (ONNX Runtime's providers; gpu means cuda).")
    String device = "cpu";

    @Mixin
    BatchOptions batch = new BatchOptions();

    /** The model, opened by whichever engine takes it; the caller closes it. */
    public Predictor open() {
        if (!device.matches("(cpu|gpu|cuda|tensorrt)(:\\d+)?")) {
            throw new InvalidInputException("--device must be cpu, gpu[:N], cuda[:N] or tensorrt[:N], found \"" + device + "\"");
        }
        return PredictorProvider.openAny(model.model(), device);
    }

    public Path model() {
        return model.model();
    }

    public ModelSpec spec() {
        return model.spec();
    }

    public int batchSize() {
        return batch.batchSize();
    }
}
