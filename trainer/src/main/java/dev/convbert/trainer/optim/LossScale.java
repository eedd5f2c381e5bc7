package dev.convbert.trainer.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Dynamic loss scaling as PyTorch's {@code GradScaler} does it: the loss is multiplied by {@code scale} before the
 * backward pass so that gradients too small for fp16 (below 6e-8) keep their value; the gradients are divided by it
 * before clipping and the update. A step whose gradients overflowed (inf/NaN) applies no update and halves the scale;
 * {@value #GROWTH_INTERVAL} clean steps in a row double it. Immutable: each step's outcome gives the next value, which
 * the checkpoint keeps for an exact resume.
 *
 * @param cleanSteps   finite steps since the scale last changed
 * @param skippedSteps steps whose update was skipped because a gradient was not finite, over the whole run
 */
public record LossScale(double scale, long cleanSteps, long skippedSteps, boolean dynamic) {
    /** GradScaler's defaults: start at 2^16, double after 2,000 clean steps, halve on an overflow. */
    public static final double INITIAL = 65536.0;
    public static final int GROWTH_INTERVAL = 2000;

    /** float32 training: no scaling; a non-finite step is still skipped and counted. */
    public static final LossScale NONE = new LossScale(1.0, 0, 0, false);

    public static LossScale dynamicFrom(double scale) {
        return new LossScale(scale, 0, 0, true);
    }

    /** The value after a step whose gradients were {@code finite} (or not). */
    public LossScale after(boolean finite) {
        if (!finite) {
            return new LossScale(dynamic ? scale / 2 : scale, 0, skippedSteps + 1, dynamic);
        }
        if (!dynamic) {
            return this;
        }
        long clean = cleanSteps + 1;
        return clean == GROWTH_INTERVAL ? new LossScale(scale * 2, 0, skippedSteps, true)
                : new LossScale(scale, clean, skippedSteps, true);
    }

    public ObjectNode toJson() {
        return JsonNodeFactory.instance.objectNode().put("scale", scale).put("clean_steps", cleanSteps)
                .put("skipped_steps", skippedSteps).put("dynamic", dynamic);
    }

    /** Reads {@link #toJson()}; a checkpoint written before loss scaling existed is float32: {@link #NONE}. */
    public static LossScale fromJson(JsonNode o) {
        if (o == null || !o.isObject()) {
            return NONE;
        }
        return new LossScale(o.path("scale").asDouble(1.0), o.path("clean_steps").asLong(), o.path("skipped_steps").asLong(),
                o.path("dynamic").asBoolean(false));
    }
}
