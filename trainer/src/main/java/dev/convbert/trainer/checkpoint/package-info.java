/** Crash-safe training checkpoints (data first, then an atomic pointer), shared by fine-tuning and pre-training. */
package dev.convbert.trainer.checkpoint;
