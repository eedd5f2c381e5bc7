package dev.convbert.benchmarks;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.predict.PaddedBatch;
import dev.convbert.trainer.model.TaskModel;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.GradientClipping;
import dev.convbert.trainer.optim.LossScale;
import dev.convbert.trainer.optim.Precision;
import dev.convbert.trainer.optim.ParamGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code convbert benchmark-model}: DJL forward and forward+backward (the training step's, with its loss) throughput of a
 * config at a batch shape, as tokens/s and as achieved GFLOP/s over the fp32 matmul GFLOP/s measured in the same run
 * (efficiency against this hardware); and the rest of a fine-tuning step as the training loop runs it — global-norm
 * clipping, the AdamW update over every parameter, clearing the gradients — so the whole step's time is accounted for.
 */
@Command(name = "benchmark-model",
        description = "Time the DJL model: forward, forward+backward, and the training step's clip, AdamW update and clear.",
        footer = "  convbert benchmark-model --config medium-small --batch 32 --seq 128 --output docs/results/model.json")
public final class ModelBenchmark implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    ConfigOption config = new ConfigOption();

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "128", description = "Sequence length (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed repeats of each measurement (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--matmul-n", defaultValue = "2048", description = "Size of the square fp32 matmul that defines peak (default ${DEFAULT-VALUE}).")
    int matmulN;

    @picocli.CommandLine.Mixin
    ResultsOutput output = new ResultsOutput();

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32, or fp16: the training step in mixed precision "
            + "(fp16 copy forward/backward with loss scale 2^16, fp32 masters and AdamW), as finetune --precision fp16 runs it; "
            + "the forward-only line stays fp32 (default ${DEFAULT-VALUE}).")
    String precision;

    @picocli.CommandLine.Mixin
    dev.convbert.trainer.cli.DeviceOption device = new dev.convbert.trainer.cli.DeviceOption();

    @Override
    public Integer call() throws Exception {
        ConvBertConfig c = config.config();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode r = mapper.createObjectNode();
        double fwdFlops = forwardFlops(c, batch, seq);
        long tokens = (long) batch * seq;
        Precision p = Precision.of(precision);
        Device on = device.device();
        double scale = p == Precision.FP16 ? LossScale.INITIAL : 1;
        try (TaskModel m = TaskModel.initialise(c, on, 1);
             NDManager data = NDManager.newBaseManager(on)) {
            if (p == Precision.FP16) {
                m.trainInHalfPrecision();
            }
            PaddedBatch in = inputs(c);
            float[] labels = new float[batch];     // class 0: the loss's value does not change the work
            List<ParamGroup> groups = new ArrayList<>();
            for (var n : m.namedParameters().values()) {
                groups.add(new ParamGroup(n.name(), n.parameter(), ParamGroup.decays(n.name()), 1.0));
            }
            AdamW adam = AdamW.original(0.01);
            double[] peak = new double[repeats];
            double[] fwd = new double[repeats];
            double[] train = new double[repeats];
            double[] clip = new double[repeats];
            double[] update = new double[repeats];
            double[] clear = new double[repeats];
            matmul(data);
            forward(m, in);
            m.forwardBackward(in, labels, scale);
            optimizerStep(m, groups, adam, scale, new double[3]);
            for (int i = 0; i < repeats; i++) {      // interleaved, so every measurement sees the same machine load
                peak[i] = 2.0 * matmulN * matmulN * matmulN / matmul(data) / 1e9;
                fwd[i] = forward(m, in);
                long start = System.nanoTime();
                m.forwardBackward(in, labels, scale);
                train[i] = (System.nanoTime() - start) / 1e9;
                double[] rest = new double[3];
                optimizerStep(m, groups, adam, scale, rest);
                clip[i] = rest[0];
                update[i] = rest[1];
                clear[i] = rest[2];
            }
            double[] step = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                step[i] = train[i] + clip[i] + update[i] + clear[i];
            }
            for (double[] t : List.of(peak, fwd, train, clip, update, clear, step)) {
                Arrays.sort(t);
            }
            double peakMed = peak[repeats / 2];
            r.put("config", config.name);
            r.put("precision", p.id());
            r.put("device", on.toString());
            r.put("parameters", c.parameterCount());
            r.put("batch", batch);
            r.put("seq", seq);
            r.put("repeats", repeats);
            r.put("threads", Runtime.getRuntime().availableProcessors());
            r.put("engine", "PyTorch " + Engine.getInstance().getVersion());
            r.put("matmul_n", matmulN);
            r.put("matmul_gflops_median", peakMed);
            r.put("matmul_gflops_max", peak[repeats - 1]);
            r.put("forward_gflop", fwdFlops / 1e9);
            put(r, "forward", fwd, tokens, fwdFlops, peakMed);
            put(r, "forward_backward", train, tokens, 3 * fwdFlops, peakMed);
            r.put("clip_seconds_median", clip[repeats / 2]);
            r.put("adamw_seconds_median", update[repeats / 2]);
            r.put("clear_seconds_median", clear[repeats / 2]);
            put(r, "training_step", step, tokens, 3 * fwdFlops, peakMed);
            System.out.printf(Locale.ROOT, "%s, batch %d x seq %d, training step in %s on %s, %d repeats (min / median seconds)%n",
                    config.name, batch, seq, p.id(), on, repeats);
            System.out.printf(Locale.ROOT, "fp32 matmul n=%d: %.1f GFLOP/s median (max %.1f)%n", matmulN, peakMed, peak[repeats - 1]);
            line("forward (shifted slices)", fwd, tokens, fwdFlops, peakMed);
            line("forward+backward", train, tokens, 3 * fwdFlops, peakMed);
            System.out.printf(Locale.ROOT, "%-26s %.3f / %.3f / %.3f s (median)%n", "clip / AdamW / clear",
                    clip[repeats / 2], update[repeats / 2], clear[repeats / 2]);
            line("training step", step, tokens, 3 * fwdFlops, peakMed);
        }
        output.write(r);
        return ExitCodes.OK;
    }

    private static void put(ObjectNode r, String key, double[] t, long tokens, double flops, double peak) {
        ObjectNode o = r.putObject(key);
        o.put("seconds_min", t[0]);
        o.put("seconds_median", t[t.length / 2]);
        o.put("tokens_per_s_median", tokens / t[t.length / 2]);
        o.put("gflops_median", flops / t[t.length / 2] / 1e9);
        o.put("fraction_of_matmul_peak", flops / t[t.length / 2] / 1e9 / peak);
    }

    private static void line(String what, double[] t, long tokens, double flops, double peak) {
        double med = t[t.length / 2];
        System.out.printf(Locale.ROOT, "%-26s %.3f / %.3f s  %8.0f tokens/s  %6.1f GFLOP/s  = %4.1f%% of matmul peak%n",
                what, t[0], med, tokens / med, flops / med / 1e9, 100 * flops / med / 1e9 / peak);
    }

    /** Multiply-adds ×2 of one forward pass (matmuls, convolutions, attention), the standard model-FLOPs count. */
    static double forwardFlops(ConvBertConfig c, int batch, int seq) {
        double hd = c.hiddenSize(), a = c.allHeadSize(), k = c.convKernelSize(), i = c.intermediateSize();
        double g = c.numGroups(), e = c.embeddingSize(), kernels = (double) c.selfAttentionHeads() * k;
        double perTokenLayer = 2 * (3 * hd * a          // query, key, value
                + hd * k + hd * a                       // depthwise + pointwise key conv
                + a * kernels                           // conv_kernel_layer
                + hd * a                                // conv_out_layer
                + a * k                                 // span-conv window
                + 2.0 * seq * a                         // QKᵀ and PV
                + hd * hd                               // attention.output.dense
                + 2 * hd * i / g);                      // feed-forward (grouped)
        double perToken = c.numHiddenLayers() * perTokenLayer + (e != hd ? 2 * e * hd : 0);
        return perToken * batch * seq + 2.0 * batch * (hd * hd + hd * c.numLabels());
    }

    /** Random token ids, one segment, no padding; on the host (copying them in is part of every timed pass). */
    private PaddedBatch inputs(ConvBertConfig c) {
        return SyntheticIds.batch(batch, seq, c.vocabSize(), 1);
    }

    private double matmul(NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            NDArray a = m.randomUniform(-1, 1, new Shape(matmulN, matmulN));
            NDArray b = m.randomUniform(-1, 1, new Shape(matmulN, matmulN));
            long start = System.nanoTime();
            a.matMul(b).toFloatArray();
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /**
     * What the training loop does after backward, timed in {@code seconds}: clip to global norm 1, one AdamW update at a
     * tiny learning rate (the weights barely move between repeats), clear the gradients. In fp16 the gradients are first
     * unscaled into fp32 (counted with the clip) and the fp16 copy is refreshed from the masters (counted with AdamW).
     */
    private static void optimizerStep(TaskModel m, List<ParamGroup> groups, AdamW adam, double scale, double[] seconds) {
        long t0 = System.nanoTime();
        List<NDArray> grads = m.gradients(scale);
        double norm = GradientClipping.globalNorm(grads, 1.0);
        long t1 = System.nanoTime();
        adam.step(groups, grads, 1e-7);
        m.refreshHalfCopy();
        long t2 = System.nanoTime();
        for (NDArray g : grads) {
            GradientClipping.zero(g, norm);
            g.close();
        }
        m.clearHalfGradients(norm);
        long t3 = System.nanoTime();
        seconds[0] = (t1 - t0) / 1e9;
        seconds[1] = (t2 - t1) / 1e9;
        seconds[2] = (t3 - t2) / 1e9;
    }

    private static double forward(TaskModel model, PaddedBatch in) {
        long start = System.nanoTime();
        model.run(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), false);
        return (System.nanoTime() - start) / 1e9;
    }
}
