package dev.convbert.runtime.score;

import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.PredictorProvider;

import java.nio.file.Path;

/** Runs exported {@code .onnx} files with ONNX Runtime ({@code gpu} = the CUDA provider). */
public final class OrtPredictorProvider implements PredictorProvider {
    @Override
    public String describes() {
        return "an exported .onnx file";
    }

    @Override
    public boolean accepts(Path model) {
        return model.getFileName().toString().endsWith(".onnx");
    }

    /** {@code cpu}; {@code gpu}, {@code cuda} or {@code tensorrt}, each optionally {@code :N} for the GPU number. */
    @Override
    public Predictor open(Path model, String device) {
        String[] nameAndId = device.split(":", 2);
        int id;
        try {
            id = nameAndId.length == 2 ? Integer.parseInt(nameAndId[1]) : 0;
        } catch (NumberFormatException e) {
            throw new ScoringException("--device " + device + ": expected cpu, gpu, cuda or tensorrt, optionally :N");
        }
        return OrtModel.open(model, ExecutionProvider.parse(nameAndId[0], id, false, null, null, false));
    }
}
