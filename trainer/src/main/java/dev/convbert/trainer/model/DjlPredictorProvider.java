package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.PredictorProvider;

import java.nio.file.Files;
import java.nio.file.Path;

/** Runs model directories (HF layout) with DJL on PyTorch, on the CPU or a CUDA device. */
public final class DjlPredictorProvider implements PredictorProvider {
    @Override
    public String describes() {
        return "a model directory (config.json + model.safetensors)";
    }

    @Override
    public boolean accepts(Path model) {
        return Files.isDirectory(model);
    }

    @Override
    public Predictor open(Path model, String device) {
        return TaskModel.load(model, device(device));
    }

    /** {@code cpu} or {@code gpu}; a clear error when no GPU is usable. */
    public static Device device(String name) {
        if (name.equals("gpu")) {
            int gpus = Engine.getInstance().getGpuCount();
            if (gpus == 0) {
                throw new InvalidInputException("--device gpu: no CUDA device is usable by PyTorch "
                        + Engine.getInstance().getVersion() + " (a CPU build unless built with -Pcuda, i.e. "
                        + "CONVBERT_MAVEN_ARGS=-Pcuda; or no GPU/driver visible); rerun with --device cpu");
            }
            return Device.gpu();
        }
        return Device.cpu();
    }

}
