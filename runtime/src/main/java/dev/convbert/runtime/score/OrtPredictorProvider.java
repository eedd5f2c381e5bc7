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

    @Override
    public Predictor open(Path model, String device) {
        return OrtModel.open(model, device.equals("gpu") ? ExecutionProvider.parse("cuda", 0, false, null, false)
                : ExecutionProvider.cpu());
    }
}
