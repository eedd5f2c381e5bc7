package dev.convbert.core.predict;

import dev.convbert.core.io.Progress;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

/**
 * Runs many encoded examples through a {@link Predictor}, sorted by length to cut padding. Padding-invariant models
 * get padded batches; HF-semantics models only batch rows of equal length, so every answer equals the
 * batch-size-1 answer (padding would change it).
 */
public final class BatchRunner {
    private BatchRunner() {}

    /** Logits per encoding, in input order, at most {@code batchSize} rows a pass. {@code progress} may be {@code null}. */
    public static float[][] logits(Predictor predictor, List<Encoding> encodings, int batchSize, Progress progress) {
        return logits(predictor, encodings, Batching.rows(batchSize), progress);
    }

    /** Logits per encoding, in input order, run in the passes {@link #passes} makes, one at a time. */
    public static float[][] logits(Predictor predictor, List<Encoding> encodings, Batching batching, Progress progress) {
        return logits(predictor, encodings, batching, progress, 1);
    }

    /**
     * As {@link #logits(Predictor, List, Batching, Progress)} with up to {@code workers} passes running at once when
     * the predictor allows concurrent runs: a pass of short rows is hundreds of small operators that gain little from a
     * second core, so two passes side by side, one core each, finish sooner than one after the other on both
     * (docs/RESULTS.md). Every pass writes its own rows, so the answers do not depend on the number of workers.
     */
    public static float[][] logits(Predictor predictor, List<Encoding> encodings, Batching batching, Progress progress,
                                   int workers) {
        float[][] out = new float[encodings.size()][];
        List<List<Integer>> passes = passes(encodings, batching, predictor.config().paddingInvariant());
        if (workers <= 1 || !predictor.concurrentRuns() || passes.size() <= 1) {
            for (List<Integer> pass : passes) {
                run(predictor, encodings, pass, out, progress);
            }
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(workers, passes.size()), r -> {
            Thread t = new Thread(r, "convbert-pass");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> running = new ArrayList<>();
            for (List<Integer> pass : passes) {
                running.add(pool.submit(() -> run(predictor, encodings, pass, out, progress)));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while scoring", e);
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /**
     * Rows (indices) grouped into forward passes: ascending length; a pass closes when it holds {@code maxRows} rows
     * or the next row would take its padded size (rows × longest) past {@code maxTokens} — short rows share a pass with
     * many others, long ones with few. Without padding invariance only rows of equal length share a pass.
     */
    public static List<List<Integer>> passes(List<Encoding> encodings, Batching batching, boolean paddingInvariant) {
        Integer[] order = IntStream.range(0, encodings.size()).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.comparingInt(i -> encodings.get(i).length()));
        List<List<Integer>> passes = new ArrayList<>();
        List<Integer> pass = new ArrayList<>();
        for (int idx : order) {
            int length = encodings.get(idx).length();
            if (!pass.isEmpty() && (pass.size() == batching.maxRows()
                    || (long) (pass.size() + 1) * length > batching.maxTokens()
                    || (!paddingInvariant && encodings.get(pass.get(0)).length() != length))) {
                passes.add(pass);
                pass = new ArrayList<>();
            }
            pass.add(idx);
        }
        if (!pass.isEmpty()) {
            passes.add(pass);
        }
        return passes;
    }

    private static void run(Predictor predictor, List<Encoding> encodings, List<Integer> batch, float[][] out, Progress progress) {
        int b = batch.size();
        float[][] logits = PaddedBatch.of(batch.stream().map(encodings::get).toList()).run(predictor, false).logits();
        for (int r = 0; r < b; r++) {
            out[batch.get(r)] = logits[r];
        }
        if (progress != null) {
            synchronized (progress) {
                progress.step(b);
            }
        }
    }

    /** Encodes GLUE rows as the model sees them: {@code [CLS] a [SEP] (b [SEP])}, truncated to {@code maxLength}. */
    public static List<Encoding> encode(BertTokenizer tokenizer, List<GlueExample> examples, int maxLength) {
        List<Encoding> out = new ArrayList<>(examples.size());
        for (GlueExample e : examples) {
            out.add(tokenizer.encode(e.textA(), e.textB(), maxLength));
        }
        return out;
    }

    /** Class index (argmax) per row, or the score for regression tasks. */
    public static double[] predictions(GlueTask task, float[][] logits) {
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            if (task.isRegression()) {
                out[i] = logits[i][0];
            } else {
                int best = 0;
                for (int c = 1; c < logits[i].length; c++) {
                    if (logits[i][c] > logits[i][best]) {
                        best = c;
                    }
                }
                out[i] = best;
            }
        }
        return out;
    }

    /** Gold labels as class indices, or scores for regression. */
    public static double[] gold(GlueTask task, List<GlueExample> examples) {
        double[] out = new double[examples.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = task.isRegression() ? examples.get(i).regressionTarget() : examples.get(i).labelId(task);
        }
        return out;
    }
}
