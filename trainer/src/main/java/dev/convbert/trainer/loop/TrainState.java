package dev.convbert.trainer.loop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.trainer.optim.LossScale;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a run stands after {@code step} steps — what a checkpoint saves beside the weights and the optimizer moments,
 * and what a resumed run starts from.
 *
 * @param run         what must not change across a resume (hyper-parameters, configs, data hashes)
 * @param updates     optimizer updates applied (steps with a non-finite gradient apply none)
 * @param bestStep    the step of the best evaluation so far, −1 before the first
 * @param evaluations every evaluation, in order
 * @param lossScale   the loss scale the next step uses, with its counters (float32: {@link LossScale#NONE})
 */
public record TrainState(ObjectNode run, long step, long updates, double elapsedSeconds, long bestStep, double bestValue,
                         List<Evaluation> evaluations, LossScale lossScale) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One split scored at one step. */
    public record Evaluation(long step, String split, Map<String, Double> metrics) {}

    public TrainState {
        evaluations = List.copyOf(evaluations);
    }

    public static TrainState start(ObjectNode run, LossScale lossScale) {
        return new TrainState(run, 0, 0, 0.0, -1, Double.NEGATIVE_INFINITY, List.of(), lossScale);
    }

    public TrainState after(long steps, long optimizerUpdates, double seconds, LossScale scale) {
        return new TrainState(run, steps, optimizerUpdates, seconds, bestStep, bestValue, evaluations, scale);
    }

    public TrainState evaluated(List<Evaluation> added, double value) {
        List<Evaluation> all = new ArrayList<>(evaluations);
        all.addAll(added);
        long at = added.isEmpty() ? step : added.get(0).step();
        boolean better = value > bestValue;
        return new TrainState(run, step, updates, elapsedSeconds, better ? at : bestStep, better ? value : bestValue, all,
                lossScale);
    }

    /** The evaluations of the best step, by split. */
    public List<Evaluation> best() {
        return evaluations.stream().filter(e -> e.step() == bestStep).toList();
    }

    /** trainer_state.json: the field names every checkpoint since the first release has used. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.set("run", run);
        o.put("step", step);
        o.put("updates", updates);
        o.put("elapsed_seconds", elapsedSeconds);
        o.put("best_step", bestStep);
        o.put("best_value", bestValue);
        o.set("loss_scale", lossScale.toJson());
        var list = o.putArray("evaluations");
        for (Evaluation e : evaluations) {
            ObjectNode n = list.addObject().put("step", e.step()).put("split", e.split());
            n.set("metrics", JSON.valueToTree(new TreeMap<>(e.metrics())));
        }
        return o;
    }

    /** Reads {@link #toJson()}; a pre-training checkpoint has no evaluations and no best. */
    public static TrainState fromJson(ObjectNode o) {
        List<Evaluation> evals = new ArrayList<>();
        for (JsonNode e : o.path("evaluations")) {
            Map<String, Double> metrics = new TreeMap<>();
            e.path("metrics").fields().forEachRemaining(f -> metrics.put(f.getKey(), f.getValue().asDouble()));
            evals.add(new Evaluation(e.path("step").asLong(), e.path("split").asText(), metrics));
        }
        JsonNode best = o.path("best_value");
        double bestValue = best.isNumber() ? best.asDouble()
                : best.isTextual() ? Double.parseDouble(best.asText()) : Double.NEGATIVE_INFINITY;
        return new TrainState((ObjectNode) o.get("run"), o.path("step").asLong(), o.path("updates").asLong(),
                o.path("elapsed_seconds").asDouble(), o.path("best_step").asLong(-1), bestValue, evals,
                LossScale.fromJson(o.get("loss_scale")));
    }
}
