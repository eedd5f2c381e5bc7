package dev.convbert.trainer.optim;

import ai.djl.nn.Parameter;

/**
 * One parameter with its optimisation rules: whether weight decay applies (not to biases or LayerNorm, as in the
 * original optimiser) and its learning-rate multiplier (layer-wise decay).
 */
public record ParamGroup(String name, Parameter parameter, boolean decay, double lrScale) {

    /** The original rule: no weight decay on names matching LayerNorm, layer_norm or bias. */
    public static boolean decays(String name) {
        return !(name.contains("LayerNorm") || name.contains("layer_norm") || name.endsWith("bias"));
    }

    /**
     * Layer-wise learning-rate decay of the original fine-tuning code: lr·decay^(n+2−depth) with depth 0 for the
     * embeddings (and embeddings_project), i+1 for encoder layer i, n+2 for the task head — the head gets the full lr,
     * the top layer decay², the embeddings decay^(n+2).
     */
    public static double layerScale(String name, int layers, double decay) {
        String n = name.startsWith("convbert.") ? name.substring("convbert.".length()) : name;
        int depth;
        if (n.startsWith("embeddings")) {
            depth = 0;
        } else if (n.startsWith("encoder.layer.")) {
            String rest = n.substring("encoder.layer.".length());
            depth = Integer.parseInt(rest.substring(0, rest.indexOf('.'))) + 1;
        } else {
            depth = layers + 2;
        }
        return Math.pow(decay, layers + 2 - depth);
    }
}
