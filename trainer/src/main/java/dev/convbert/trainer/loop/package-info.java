/**
 * The one training loop that fine-tuning and pre-training share: seeds, batch plan, clipping, skipped updates, the
 * evaluation and checkpoint cadence, logging, and the typed state a checkpoint saves and restores; and
 * {@link dev.convbert.trainer.loop.Replicas}, data-parallel copies of a model on several devices (pre-training uses
 * them; any task can).
 */
package dev.convbert.trainer.loop;
