/**
 * ConvBERT (Jiang et al., "ConvBERT: Improving BERT with Span-based Dynamic Convolution", NeurIPS 2020,
 * arXiv:2008.02496) as DJL blocks on the PyTorch engine, numerically identical to HuggingFace's
 * {@code transformers/models/convbert/modeling_convbert.py}, whose parameter names the block tree reproduces.
 *
 * <p>Parts in forward order:
 * <ol>
 *   <li>{@link dev.convbert.trainer.model.ConvBertEmbeddings} — word + position + token type, LayerNorm, dropout
 *       (HF {@code ConvBertEmbeddings}); then {@code embeddings_project} when embedding_size ≠ hidden_size.</li>
 *   <li>{@link dev.convbert.trainer.model.ConvBertLayer}, num_hidden_layers times (HF {@code ConvBertLayer}):
 *     <ol>
 *       <li>{@link dev.convbert.trainer.model.MixedAttention} — paper §3.3 mixed attention (HF
 *           {@code ConvBertSelfAttention}): self-attention heads and span-based dynamic convolution heads (§3.2),
 *           the latter from {@link dev.convbert.trainer.model.SeparableConv1D} (span-aware key) and
 *           {@link dev.convbert.trainer.model.SpanBasedDynamicConv} (the window);</li>
 *       <li>{@link dev.convbert.trainer.model.ResidualOutput} — dense, dropout, residual, LayerNorm;</li>
 *       <li>feed-forward with {@link dev.convbert.trainer.model.GroupedLinear} when num_groups &gt; 1 (§3.4).</li>
 *     </ol></li>
 *   <li>{@link dev.convbert.trainer.model.ConvBertForSequenceClassification} — HF's classification head.</li>
 * </ol>
 * {@link dev.convbert.trainer.model.ConvBertWeights} maps the tree to HF names for loading, initialisation and saving;
 * {@link dev.convbert.trainer.model.TaskModel} and {@link dev.convbert.trainer.model.EncoderModel} own a loaded
 * model's native memory and the model directory it came from (their shared {@code LoadedModel}).
 */
package dev.convbert.trainer.model;
