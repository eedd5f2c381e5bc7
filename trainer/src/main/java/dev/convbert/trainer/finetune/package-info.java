/** GLUE fine-tuning: data, deterministic batch plan, the training loop with evaluation, best-checkpoint keeping and resume. */
package dev.convbert.trainer.finetune;
