package dev.convbert.core.predict;

import dev.convbert.core.InvalidInputException;

import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens models of one kind (found with {@link ServiceLoader}): the trainer module provides model directories, the
 * runtime module {@code .onnx} files.
 */
public interface PredictorProvider {

    /** What this provider opens, for error messages ("a model directory", "an .onnx file"). */
    String describes();

    boolean accepts(Path model);

    /** @param device {@code cpu} or {@code gpu} */
    Predictor open(Path model, String device);

    /** Opens {@code model} with the first provider on the classpath that accepts it. */
    static Predictor openAny(Path model, String device) {
        List<PredictorProvider> providers = ServiceLoader.load(PredictorProvider.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        for (PredictorProvider p : providers) {
            if (p.accepts(model)) {
                return p.open(model, device);
            }
        }
        throw new InvalidInputException(model + ": not a model this build can run; expected "
                + String.join(" or ", providers.stream().map(PredictorProvider::describes).toList()));
    }
}
