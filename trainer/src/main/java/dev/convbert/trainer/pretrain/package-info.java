/**
 * Pre-training: corpus → shards ({@link dev.convbert.trainer.pretrain.DataBuilder}, ELECTRA's fixed example builder,
 * docs/PRETRAIN_DATA.md), ELECTRA masking, and the replaced-token-detection loop
 * ({@link dev.convbert.trainer.pretrain.Pretrainer}).
 */
package dev.convbert.trainer.pretrain;
