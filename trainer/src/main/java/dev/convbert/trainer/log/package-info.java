/** Progress, log file and metrics JSONL of training runs. */
package dev.convbert.trainer.log;
