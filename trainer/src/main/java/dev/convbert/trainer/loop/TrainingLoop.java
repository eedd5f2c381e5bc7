package dev.convbert.trainer.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.RunInterruptedException;
import dev.convbert.core.CommandFailedException;
import dev.convbert.core.safetensors.SafeTensor;
import dev.convbert.trainer.checkpoint.Checkpoints;
import dev.convbert.trainer.log.TrainingLog;
import dev.convbert.trainer.optim.AdamW;
import dev.convbert.trainer.optim.GradientClipping;
import dev.convbert.trainer.optim.LossScale;
import dev.convbert.trainer.optim.LrSchedule;
import dev.convbert.trainer.optim.ParamGroup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.convbert.trainer.log.TrainingLog.fmt;

/**
 * The training loop of fine-tuning and pre-training. Each step: seed the engine from (seed, step), forward/backward of
 * the loss times the loss scale, refuse a non-finite loss, unscale and clip by global norm, apply AdamW — or skip an
 * update whose gradient overflowed, which halves a dynamic loss scale — clear the gradients, log; then evaluate and
 * checkpoint on their cadence. What differs between the two lives in a
 * {@link Task}: the batch and loss of a step, the evaluation, what a checkpoint also writes.
 */
public final class TrainingLoop {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one kind of training supplies to the loop. */
    public interface Task {
        /**
         * Forward and backward over the batch of 0-based {@code step}, backpropagating the loss times {@code lossScale}
         * (1 in float32); gradients accumulate on the parameters. The result's loss is unscaled.
         */
        StepResult forwardBackward(long step, double lossScale);

        /**
         * The float32 gradients in the optimizer's group order, divided by {@code lossScale}; the loop clips, applies,
         * clears and then closes them.
         */
        List<NDArray> gradients(double lossScale);

        /** After an update changed the weights (data-parallel: copies them to the other replicas). */
        default void updated() {}

        /** After the gradients were cleared for the next step ({@code norm}: the step's, maybe non-finite). */
        default void cleared(double norm) {}

        /** The model's weights, for a checkpoint. */
        List<SafeTensor> weights();

        /** Scores the model after {@code step} steps; empty when the task has no evaluation. */
        default Evaluation evaluate(long step) throws IOException {
            return Evaluation.NONE;
        }

        /** The evaluation at {@code step}, {@code value}, is the best so far (fine-tuning keeps that model). */
        default void best(long step, double value) throws IOException {}

        /** A checkpoint at {@code step} was written (pre-training also writes the discriminator). */
        default void checkpointed(long step) throws IOException {}
    }

    /**
     * One step's outcome: the loss (already backpropagated), how much data it saw, what else to record, and a short
     * human summary for the progress line.
     */
    public record StepResult(double loss, int examples, long tokens, Map<String, Double> metrics, String summary) {}

    /** The splits scored at one step, and the value that decides which step is best. */
    public record Evaluation(List<TrainState.Evaluation> splits, double value, List<String> lines) {
        static final Evaluation NONE = new Evaluation(List.of(), Double.NaN, List.of());
    }

    /** The loop's cadence: steps [state.step, stopAt) of {@code totalSteps}; 0 turns evaluation or saving off. */
    public record Schedule(long totalSteps, long stopAt, int evalEvery, int saveEvery, double maxGradNorm) {}

    private final Schedule schedule;
    private final LrSchedule lr;
    private final Seeds seeds;
    private final List<ParamGroup> groups;
    private final AdamW optimizer;
    private final Checkpoints checkpoints;
    private final TrainingLog log;

    public TrainingLoop(Schedule schedule, LrSchedule lr, Seeds seeds, List<ParamGroup> groups, AdamW optimizer,
                        Checkpoints checkpoints, TrainingLog log) {
        this.schedule = schedule;
        this.lr = lr;
        this.seeds = seeds;
        this.groups = groups;
        this.optimizer = optimizer;
        this.checkpoints = checkpoints;
        this.log = log;
    }

    /**
     * Trains from {@code state} to the stop step; returns the state there (saved in the last checkpoint). When
     * {@code stop} asks, the step in flight is finished and checkpointed, then {@link RunInterruptedException} is thrown.
     */
    public TrainState run(Task task, TrainState state, StopRequest stop) throws IOException {
        double before = state.elapsedSeconds();
        long t0 = System.nanoTime();
        long examples = 0;
        long tokens = 0;
        long end = Math.min(schedule.stopAt(), schedule.totalSteps());
        if (state.step() < end && stop.requested().isPresent()) {
            throw interrupted(stop.requested().get(), state.step(), state.step() > 0 ? "nothing done since the last "
                    + "checkpoint; continue with --resume" : "nothing was saved; run the command again");
        }
        LossScale scale = state.lossScale();
        for (long step = state.step(); step < end; step++) {
            double rate = lr.lr(step);
            Engine.getInstance().setRandomSeed(seeds.engine(step));
            StepResult r = task.forwardBackward(step, scale.scale());
            // in fp16 an overflow in the forward pass is an overflow like any other: skipped, the scale halved; a
            // scale driven below 1 means the loss itself is not finite, and so does any non-finite loss in fp32
            if (!Double.isFinite(r.loss()) && !(scale.dynamic() && scale.scale() >= 1)) {
                throw new CommandFailedException("training diverged: loss became " + r.loss() + " at step " + step
                        + "; lower --lr, then resume from the last checkpoint (--resume) or start again");
            }
            List<NDArray> grads = task.gradients(scale.scale());
            double norm = GradientClipping.globalNorm(grads, schedule.maxGradNorm());
            if (!Double.isFinite(r.loss())) {
                norm = Double.NaN;
            }
            if (Double.isFinite(norm)) {
                optimizer.step(groups, grads, rate);
                task.updated();
            } else {
                // as mixed-precision trainers do: an overflowed gradient is dropped, not applied
                log.info(fmt("step %d: gradient norm is %s (non-finite in %s); update skipped%s", step + 1, norm,
                        nonFinite(grads), scale.dynamic() ? fmt(", loss scale %.0f -> %.0f", scale.scale(), scale.scale() / 2) : ""));
            }
            LossScale next = scale.after(Double.isFinite(norm));
            if (next.scale() > scale.scale()) {
                log.info(fmt("step %d: %d clean steps; loss scale %.0f -> %.0f", step + 1, LossScale.GROWTH_INTERVAL,
                        scale.scale(), next.scale()));
            }
            for (NDArray g : grads) {
                GradientClipping.zero(g, norm);
                g.close();
            }
            task.cleared(norm);

            examples += r.examples();
            tokens += r.tokens();
            double secs = (System.nanoTime() - t0) / 1e9;
            ObjectNode rec = JSON.createObjectNode().put("step", step + 1).put("loss", r.loss());
            r.metrics().forEach(rec::put);
            rec.put("lr", rate).put("grad_norm", norm).put("examples_per_s", examples / Math.max(secs, 1e-9))
                    .put("tokens_per_s", tokens / Math.max(secs, 1e-9)).put("elapsed_s", before + secs);
            if (scale.dynamic()) {
                rec.put("loss_scale", scale.scale()).put("skipped_steps", next.skippedSteps());
            }
            log.step(rec, fmt("%s lr %.2e %.0f ex/s %.0f tok/s%s", r.summary(), rate, examples / Math.max(secs, 1e-9),
                    tokens / Math.max(secs, 1e-9), next.skippedSteps() > 0 ? fmt(" · %d skipped", next.skippedSteps()) : ""),
                    (step + 1) % 50 == 0);
            scale = next;

            boolean last = step + 1 == end;
            if (schedule.evalEvery() > 0 && (last || (step + 1) % schedule.evalEvery() == 0)) {
                state = evaluate(task, state, step + 1);
            }
            state = state.after(step + 1, optimizer.updates(), before + (System.nanoTime() - t0) / 1e9, scale);
            Optional<StopRequest.Reason> asked = last ? Optional.empty() : stop.requested();
            if (last || asked.isPresent() || (schedule.saveEvery() > 0 && (step + 1) % schedule.saveEvery() == 0)) {
                String saved = checkpoints.save(step + 1, task.weights(), optimizer.state(), state.toJson());
                task.checkpointed(step + 1);
                if (asked.isPresent()) {
                    throw interrupted(asked.get(), step + 1, saved + " written; continue with --resume");
                }
            }
        }
        return state;
    }

    private RunInterruptedException interrupted(StopRequest.Reason why, long step, String what) {
        String message = fmt("interrupted at step %d by %s; %s", step, why.name(), what);
        log.record(JSON.createObjectNode().put("step", step).put("interrupted", why.name()));
        log.note(message);   // the command prints it as it exits
        return new RunInterruptedException(message, why.exitCode());
    }

    /** Says in the run's log where a resumed run starts, and what the checkpoints showed on the way there. */
    public static void resumingFrom(Checkpoints.Loaded ck, TrainingLog log) {
        ck.notes().forEach(log::info);
        log.info(fmt("resuming from %s (step %d)", ck.dir(), ck.step()));
    }

    private TrainState evaluate(Task task, TrainState state, long step) throws IOException {
        Evaluation e = task.evaluate(step);
        for (TrainState.Evaluation split : e.splits()) {
            ObjectNode rec = JSON.createObjectNode().put("step", step).put("eval", split.split());
            rec.set("metrics", JSON.valueToTree(new java.util.TreeMap<>(split.metrics())));
            log.record(rec);
        }
        e.lines().forEach(line -> log.info(fmt("step %d: %s", step, line)));
        TrainState next = state.evaluated(e.splits(), e.value());
        if (next.bestStep() == step && state.bestStep() != step) {
            task.best(step, e.value());
        }
        return next;
    }

    /**
     * Which gradients are non-finite: how many parameters, and the affected one nearest the loss (groups are in forward
     * order, so the last affected is where the NaN entered the backward pass; everything before it inherits it).
     */
    private String nonFinite(List<NDArray> grads) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < grads.size(); i++) {
            for (float f : grads.get(i).toFloatArray()) {
                if (!Float.isFinite(f)) {
                    names.add(groups.get(i).name());
                    break;
                }
            }
        }
        return names.isEmpty() ? "no parameter" : names.size() + " of " + groups.size() + " parameters; nearest the loss: "
                + names.get(names.size() - 1);
    }
}
