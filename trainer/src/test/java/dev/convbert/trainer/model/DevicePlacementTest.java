package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.convbert.trainer.ReferenceSet;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every array the trainer creates lives on the model's device. A mix (an array on the CPU or on the engine's default
 * GPU while the model is on gpu:1) is an error in PyTorch only on a GPU host; here the rule is held in the code: no
 * manager without an explicit device, no device named outside device selection, and every array a forward pass leaves
 * in the model's managers is on the model's device.
 */
class DevicePlacementTest {
    @Test
    void noArrayIsCreatedOffTheModelsDevice() throws IOException {
        Pattern offDevice = Pattern.compile("newBaseManager\\(\\s*\\)|Device\\.(cpu|gpu)\\(|defaultDevice\\(|newSubManager\\(\\s*Device\\.");
        Path root = Path.of("src/main/java/dev/convbert/trainer");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (f.endsWith("DjlPredictorProvider.java")) {
                    continue;   // where --device is turned into a Device
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (offDevice.matcher(lines.get(i)).find()) {
                        found.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "create arrays with the model's manager (or a sub-manager of it), never a device of their own");
    }

    @Test
    void aForwardPassLeavesArraysOnlyOnTheModelsDevice() throws IOException {
        ReferenceSet ref = ReferenceSet.load("public-tiny");
        try (TaskModel m = TaskModel.load(ref.dir(), Device.cpu());
             NDManager step = m.manager().newSubManager()) {
            m.block().run(m.parameterStore(), new ai.djl.ndarray.NDList(TaskModel.matrix(step, ref.inputIds()),
                    TaskModel.matrix(step, ref.tokenTypeIds()), TaskModel.matrix(step, ref.attentionMask())), true, null);
            List<NDArray> arrays = new ArrayList<>(((ai.djl.ndarray.BaseNDManager) m.manager()).getManagedArrays());
            assertTrue(arrays.size() > 50, "arrays: " + arrays.size());
            for (NDArray a : arrays) {
                assertEquals(m.device(), a.getDevice(), a.getName() + " " + a.getShape());
            }
        }
    }
}
