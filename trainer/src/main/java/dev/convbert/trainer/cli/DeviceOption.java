package dev.convbert.trainer.cli;

import ai.djl.Device;
import dev.convbert.trainer.model.DjlPredictorProvider;
import picocli.CommandLine.Option;

/** {@code --device} of the commands that run one DJL model on one device (finetune, benchmark-model). */
public final class DeviceOption {
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu[:N] (default ${DEFAULT-VALUE}).")
    String name = "cpu";

    public Device device() {
        return DjlPredictorProvider.device(name);
    }

    /** As given, for messages. */
    public String name() {
        return name;
    }
}
