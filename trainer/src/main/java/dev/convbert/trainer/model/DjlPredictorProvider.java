package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.convbert.core.InvalidInputException;
import dev.convbert.core.modeldir.ModelDir;
import dev.convbert.core.predict.Predictor;
import dev.convbert.core.predict.PredictorProvider;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** Runs model directories (HF layout) with DJL on PyTorch, on the CPU or a CUDA device. */
public final class DjlPredictorProvider implements PredictorProvider {
    @Override
    public String describes() {
        return "a model directory (config.json + model.safetensors or pytorch_model.bin)";
    }

    @Override
    public boolean accepts(Path model) {
        return Files.isDirectory(model);
    }

    @Override
    public Predictor open(Path model, String device) {
        return ModelDir.open(model).hasClassificationHead() ? TaskModel.load(model, device(device))
                : EncoderModel.load(model, device(device));
    }

    /** {@code cpu}, {@code gpu} (the first GPU) or {@code gpu:N}; a clear error when no such GPU is usable. */
    public static Device device(String name) {
        List<Device> all = devices(name);
        if (name.equals("gpu")) {
            return all.get(0);
        }
        if (all.size() > 1) {
            throw new InvalidInputException("--device " + name + ": this command runs on one device; name one, e.g. gpu:0");
        }
        return all.get(0);
    }

    /**
     * For data-parallel training: {@code cpu}, {@code gpu} (every visible GPU), {@code gpu:N} or {@code gpu:N,M,…};
     * a clear error when a named GPU is not usable.
     */
    public static List<Device> devices(String name) {
        if (name.equals("cpu")) {
            return List.of(Device.cpu());
        }
        if (!name.equals("gpu") && !name.startsWith("gpu:")) {
            throw new InvalidInputException("--device " + name + ": expected cpu, gpu (all GPUs), gpu:N or gpu:N,M");
        }
        int gpus = Engine.getInstance().getGpuCount();
        if (gpus == 0) {
            throw new InvalidInputException("--device " + name + ": no CUDA device is usable by PyTorch "
                    + Engine.getInstance().getVersion() + " (a CPU build unless built with -Pcuda, i.e. "
                    + "CONVBERT_MAVEN_ARGS=-Pcuda; or no GPU/driver visible); rerun with --device cpu");
        }
        if (name.equals("gpu")) {
            return IntStream.range(0, gpus).mapToObj(Device::gpu).toList();
        }
        List<Device> out = new ArrayList<>();
        for (String id : name.substring(4).split(",")) {
            int n;
            try {
                n = Integer.parseInt(id.trim());
            } catch (NumberFormatException e) {
                throw new InvalidInputException("--device " + name + ": \"" + id + "\" is not a GPU number");
            }
            if (n < 0 || n >= gpus) {
                throw new InvalidInputException("--device " + name + ": GPU " + n + " does not exist; PyTorch sees "
                        + gpus + " (0.." + (gpus - 1) + ")");
            }
            if (out.contains(Device.gpu(n))) {
                throw new InvalidInputException("--device " + name + ": GPU " + n + " is named twice");
            }
            out.add(Device.gpu(n));
        }
        return out;
    }

}
