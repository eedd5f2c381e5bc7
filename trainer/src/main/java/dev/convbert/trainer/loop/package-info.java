/**
 * The one training loop that fine-tuning and pre-training share: seeds, batch plan, clipping, skipped updates, the
 * evaluation and checkpoint cadence, logging, and the typed state a checkpoint saves and restores.
 */
package dev.convbert.trainer.loop;
