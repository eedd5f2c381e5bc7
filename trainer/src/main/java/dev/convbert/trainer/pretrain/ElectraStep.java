package dev.convbert.trainer.pretrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.convbert.trainer.model.ElectraPretraining;
import dev.convbert.trainer.model.Scalars;
import dev.convbert.trainer.model.TaskModel;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * One replica's share of an ELECTRA step (replaced-token detection): the generator's masked LM on the masked batch,
 * tokens sampled from it, the discriminator on the corrupted batch, both losses and their backward pass.
 */
final class ElectraStep {
    private final double temperature;
    private final double discWeight;

    ElectraStep(double temperature, double discWeight) {
        this.temperature = temperature;
        this.discWeight = discWeight;
    }

    /** Sums over one slice of a batch; the loss terms are already divided by the whole batch's counts. */
    record Stats(double mlmLoss, double discLoss, int mlmRight, int mlmCount, int discRight, int tp, int fp, int fn,
                 int real) {
        Stats plus(Stats o) {
            return new Stats(mlmLoss + o.mlmLoss, discLoss + o.discLoss, mlmRight + o.mlmRight, mlmCount + o.mlmCount,
                    discRight + o.discRight, tp + o.tp, fp + o.fp, fn + o.fn, real + o.real);
        }
    }

    /** A batch on the host: token ids, segment ids, real lengths, and the masking drawn for it. */
    record HostBatch(long[][] ids, long[][] types, int[] lengths, Masking.Masked masked) {
        /** Rows [from, to), for one replica. */
        HostBatch rows(int from, int to) {
            Masking.Masked m = masked;
            return new HostBatch(Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(types, from, to),
                    Arrays.copyOfRange(lengths, from, to), new Masking.Masked(
                    Arrays.copyOfRange(m.generatorInput(), from, to), Arrays.copyOfRange(m.positions(), from, to),
                    Arrays.copyOfRange(m.weights(), from, to), Arrays.copyOfRange(m.originals(), from, to)));
        }

        double maskedSlots() {
            double n = 0;
            for (float[] row : masked.weights()) {
                for (float w : row) {
                    n += w;
                }
            }
            return n;
        }

        long tokens() {
            long n = 0;
            for (int l : lengths) {
                n += l;
            }
            return n;
        }
    }

    /** The batch's examples padded to its longest, and their masking. */
    static HostBatch hostBatch(PretrainData data, int[] batch, Masking masking, Random rnd) {
        int b = batch.length;
        int len = 0;
        for (int i : batch) {
            len = Math.max(len, data.ids(i).length);
        }
        long[][] ids = new long[b][len];
        long[][] types = new long[b][len];
        int[] lengths = new int[b];
        for (int r = 0; r < b; r++) {
            int[] ex = data.ids(batch[r]);
            int first = data.firstSegmentLength(batch[r]);
            lengths[r] = ex.length;
            for (int j = 0; j < ex.length; j++) {
                ids[r][j] = ex[j];
                types[r][j] = j < first ? 0 : 1;
            }
        }
        return new HostBatch(ids, types, lengths, masking.mask(ids, lengths, rnd));
    }

    /**
     * One forward/backward pass over a slice of the batch, queued on the replica's device without reading anything
     * back: the generator's samples replace the masked tokens on the device and the step's sums stay there until
     * {@link PendingStats#read}, so on GPUs the replicas' work overlaps instead of each waiting for the host.
     * Gradients accumulate on the replica's parameters. The MLM loss is divided by {@code maskedSlots} and the
     * discriminator loss by {@code realTokens} — the whole batch's counts — so the slices' losses (and gradients) add
     * up to the whole batch's.
     */
    PendingStats run(ElectraPretraining model, ParameterStore ps, NDManager manager, HostBatch batch, int n,
                     double maskedSlots, double realTokens, double lossScale) {
        long[][] ids = batch.ids();
        int b = ids.length;
        int len = ids[0].length;
        int[] lengths = batch.lengths();
        long[][] mask = new long[b][len];
        int real = 0;
        for (int r = 0; r < b; r++) {
            Arrays.fill(mask[r], 0, lengths[r], 1L);
            real += lengths[r];
        }
        Masking.Masked m = batch.masked();
        long[][] replaced = replacedSlots(m, len);
        try (NDManager step = manager.newSubManager()) {
            NDArray idsNd = TaskModel.matrix(step, ids);
            NDArray typesNd = TaskModel.matrix(step, batch.types());
            NDArray maskNd = TaskModel.matrix(step, mask);
            NDArray positions = TaskModel.matrix(step, m.positions());
            NDArray weights = step.create(flatF(m.weights()), new Shape(b, n));
            NDArray originals = TaskModel.matrix(step, m.originals());
            NDArray replacedAt = step.create(replaced[0]);
            NDArray replacedFrom = step.create(replaced[1]);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                // generator: masked LM on the masked input, logits only at the masked slots
                NDArray genIn = TaskModel.matrix(step, m.generatorInput());
                NDArray genHidden = model.generator().encode(ps, new NDList(genIn, typesNd, maskNd), true, null);
                long gh = genHidden.getShape().get(2);
                NDArray index = positions.expandDims(2).repeat(2, gh);                        // [B, N, gh]
                NDArray logits = fp32(model.mlmLogits(ps, genHidden.gather(index, 1), true), step); // [B, N, V]
                NDArray logp = logits.logSoftmax(2);
                NDArray nll = logp.gather(originals.expandDims(2), 2).squeeze(2).neg();     // [B, N]
                NDArray mlmLoss = nll.mul(weights).sum().div(Scalars.like(nll, maskedSlots));

                // sampling: Gumbel-max at the configured temperature, no gradient into the generator
                NDArray predicted = logits.stopGradient().argMax(2);                          // [B, N]
                NDArray sampled = predicted;
                if (temperature > 0) {
                    NDArray scaled = temperature == 1.0 ? logits.stopGradient()
                            : logits.stopGradient().div(Scalars.like(logits, temperature));
                    NDArray u = step.randomUniform(0f, 1f, logits.getShape());
                    NDArray gumbel = u.add(1e-9f).log().neg().add(1e-9f).log().neg();
                    sampled = scaled.add(gumbel).argMax(2);
                }

                // discriminator on the corrupted input: every weighted slot's position replaced by its sample
                NDArray discIn = idsNd.flatten().put(replacedAt, sampled.take(replacedFrom)).reshape(b, len);
                NDArray y = discIn.neq(idsNd).toType(DataType.FLOAT32, false);                // [B, L]: replaced
                NDArray discHidden = model.discriminator().encode(ps, new NDList(discIn, typesNd, maskNd), true, null);
                NDArray x = fp32(model.discriminatorLogits(ps, discHidden, true), step);      // [B, L]
                NDArray maskF = maskNd.toType(DataType.FLOAT32, false);
                // sigmoid cross-entropy, stable form: max(x,0) − x·y + log(1 + e^−|x|)
                NDArray bce = x.maximum(Scalars.like(x, 0)).sub(x.mul(y)).add(x.abs().neg().exp().add(1f).log());
                NDArray discLoss = bce.mul(maskF).sum().div(Scalars.like(bce, realTokens));
                NDArray loss = mlmLoss.add(discLoss.mul(Scalars.like(discLoss, discWeight)));
                // an array of this step's manager, not a Number: autograd keeps the factor for the backward pass
                gc.backward(lossScale == 1 ? loss : loss.mul(step.create(new float[]{(float) lossScale})));

                NDArray mlmRight = predicted.eq(originals).toType(DataType.FLOAT32, false).mul(weights).sum();
                NDArray flagged = x.stopGradient().gt(Scalars.like(x, 0)).toType(DataType.FLOAT32, false).mul(maskF);
                NDArray sums = NDArrays.stack(new NDList(mlmLoss.stopGradient(), discLoss.stopGradient(), mlmRight,
                        flagged.mul(y).sum(), flagged.sum(), y.mul(maskF).sum()));
                sums.attach(manager);                                                         // outlives this step
                return new PendingStats(sums, (int) Math.round(batch.maskedSlots()), real);
            }
        }
    }

    /**
     * Logits in fp32, where the losses are taken: an fp16 array plus an fp32 zero row promotes to fp32 and, unlike a
     * cast, keeps autograd's path back into the fp16 graph. fp32 logits pass through.
     */
    private static NDArray fp32(NDArray logits, NDManager step) {
        if (logits.getDataType() == DataType.FLOAT32) {
            return logits;
        }
        long last = logits.getShape().get(logits.getShape().dimension() - 1);
        return logits.add(step.zeros(new Shape(last), DataType.FLOAT32));
    }

    /**
     * The slots whose sample replaces a token: per weighted slot, its flat position in [B·L] and its flat index in
     * [B·N]; a position drawn twice is replaced once, by its last slot (as {@link Masking} applies it once).
     */
    static long[][] replacedSlots(Masking.Masked m, int len) {
        Map<Long, Long> last = new LinkedHashMap<>();
        int n = m.positions()[0].length;
        for (int r = 0; r < m.positions().length; r++) {
            for (int s = 0; s < n; s++) {
                if (m.weights()[r][s] > 0) {
                    last.put((long) r * len + m.positions()[r][s], (long) r * n + s);
                }
            }
        }
        long[][] out = new long[2][last.size()];
        int i = 0;
        for (var e : last.entrySet()) {
            out[0][i] = e.getKey();
            out[1][i++] = e.getValue();
        }
        return out;
    }

    /** A replica's step sums on its device: the MLM and discriminator losses and counts, read once all are queued. */
    record PendingStats(NDArray sums, int mlmCount, int real) {
        Stats read() {
            try (NDArray held = sums) {
                float[] v = held.toFloatArray();
                int tp = Math.round(v[3]);
                int fp = Math.round(v[4]) - tp;
                int fn = Math.round(v[5]) - tp;
                return new Stats(v[0], v[1], Math.round(v[2]), mlmCount, real - fp - fn, tp, fp, fn, real);
            }
        }
    }

    private static float[] flatF(float[][] rows) {
        int w = rows[0].length;
        float[] out = new float[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }
}
