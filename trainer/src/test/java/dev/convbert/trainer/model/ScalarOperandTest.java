package dev.convbert.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.convbert.trainer.ReferenceSet;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A garbage collection between the forward and the backward pass must not change any gradient. DJL's scalar ops
 * (e.g. {@code div(Number)}) hand autograd a tensor over a direct buffer that the JVM frees at the next GC; the test
 * frees such buffers and refills freed memory with NaN bytes before calling backward, so a gradient that still reads
 * one comes out NaN or infinite (see {@link Scalars}).
 */
class ScalarOperandTest {

    @Test
    void gradientsDoNotDependOnAGarbageCollectionBeforeBackward() throws Exception {
        for (String set : ReferenceSet.NAMES) {
            ReferenceSet r = ReferenceSet.load(set);
            Map<String, float[]> clean = gradients(r, false);
            Map<String, float[]> collected = gradients(r, true);
            assertEquals(clean.keySet(), collected.keySet());
            for (var e : clean.entrySet()) {
                for (float f : collected.get(e.getKey())) {
                    assertTrue(Float.isFinite(f), set + ": " + e.getKey() + " has a non-finite gradient after a GC");
                }
                assertArrayEquals(e.getValue(), collected.get(e.getKey()), 0f, set + ": " + e.getKey());
            }
        }
    }

    /**
     * The GC test above covers the fine-tuning forward; this holds every other path (pre-training losses included) to
     * the same rule: no DJL op that keeps its operand for backward is given a Number in the model, pre-training or
     * fine-tuning code.
     */
    @Test
    void noNumberOperandsWhereAutogradKeepsThem() throws IOException {
        Pattern numberOperand = Pattern.compile(
                "\\.(div|mul|maximum|minimum|pow)\\(\\s*(-?[0-9]|\\((float|double|int|long)\\)|Math\\.|-?Float\\.|-?Double\\.)");
        Path root = Path.of("src/main/java/dev/convbert/trainer");
        List<String> found = new ArrayList<>();
        for (String pkg : new String[]{"model", "pretrain", "finetune"}) {
            try (Stream<Path> files = Files.walk(root.resolve(pkg))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    List<String> lines = Files.readAllLines(f);
                    for (int i = 0; i < lines.size(); i++) {
                        if (numberOperand.matcher(lines.get(i)).find()) {
                            found.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), found, "use Scalars.like(x, value) for these operands");
    }

    private static Map<String, float[]> gradients(ReferenceSet r, boolean collectGarbage) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (TaskModel m = TaskModel.load(r.dir(), Device.cpu()); NDManager step = m.manager().newSubManager()) {
            var named = ConvBertWeights.named(m.block());
            named.values().forEach(n -> n.parameter().getArray().setRequiresGradient(true));
            NDList in = new NDList(TaskModel.matrix(step, r.inputIds()), TaskModel.matrix(step, r.tokenTypeIds()),
                    TaskModel.matrix(step, r.attentionMask()));
            Engine.getInstance().setRandomSeed(11);       // the same dropout masks in both runs
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = m.block().run(m.parameterStore(), in, true, null).get(0);
                if (collectGarbage) {
                    overwriteFreedDirectMemory();
                }
                gc.backward(logits.square().sum());
            }
            for (var n : named.values()) {
                out.put(n.name(), n.parameter().getArray().getGradient().toFloatArray());
            }
        }
        return out;
    }

    /** Lets the JVM free unreachable direct buffers, then takes small blocks of memory back and fills them with NaN. */
    private static void overwriteFreedDirectMemory() throws InterruptedException {
        List<ByteBuffer> hold = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            System.gc();
            Thread.sleep(50);
            for (int i = 0; i < 2000; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(4);
                b.putInt(0, 0xFFFFFFFF);
                hold.add(b);
            }
        }
    }
}
