/**
 * What DJL lacks for the original recipe: AdamW with per-parameter decay and layer-wise learning rates whose state
 * we own (and checkpoint), global-norm gradient clipping, and the warm-up × linear-decay schedule.
 */
package dev.convbert.trainer.optim;
