package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convbert.core.config.ConvBertConfig;

/**
 * Mixed attention (paper §3.3; HF {@code ConvBertSelfAttention}, child {@code self}): H' = H/head_ratio heads of
 * ordinary self-attention next to H' heads of span-based dynamic convolution, concatenated attention-first into a
 * [B, L, Hd] tensor.
 *
 * <p>The dynamic kernel is generated from {@code key_conv(x) ⊙ query} and applied to {@code conv_out_layer(x)} (a
 * fourth projection, not the value). In padding-invariant mode padded positions are zeroed before the depthwise conv
 * and in the convolution values, so they cannot leak into real tokens; HF mode runs as HF does.
 */
final class MixedAttention extends HfBlock {
    private final LinearLayer query;
    private final LinearLayer key;
    private final LinearLayer value;
    private final SeparableConv1D keyConvAttnLayer;
    private final LinearLayer convKernelLayer;
    private final LinearLayer convOutLayer;
    private final int heads;
    private final int headSize;
    private final int kernelSize;
    private final float attentionDropout;
    private final boolean paddingInvariant;

    MixedAttention(ConvBertConfig c) {
        heads = c.selfAttentionHeads();
        headSize = c.headSize();
        kernelSize = c.convKernelSize();
        int hidden = c.hiddenSize();
        int all = c.allHeadSize();
        query = addChildBlock("query", new LinearLayer(hidden, all));
        key = addChildBlock("key", new LinearLayer(hidden, all));
        value = addChildBlock("value", new LinearLayer(hidden, all));
        keyConvAttnLayer = addChildBlock("key_conv_attn_layer", new SeparableConv1D(hidden, all, kernelSize));
        convKernelLayer = addChildBlock("conv_kernel_layer", new LinearLayer(all, (long) heads * kernelSize));
        convOutLayer = addChildBlock("conv_out_layer", new LinearLayer(hidden, all));
        attentionDropout = (float) c.attentionProbsDropoutProb();
        paddingInvariant = c.paddingInvariant();
    }

    /** inputs: x [B, L, Hd], additive attention mask [B, 1, 1, L], real-token mask [B, L, 1] → mixed [B, L, Hd]. */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray additiveMask = inputs.get(1);
        NDArray realTokens = inputs.get(2);
        long b = x.getShape().get(0);
        long len = x.getShape().get(1);

        NDArray q = query.apply(ps, x, training);                                    // [B, L, A]
        NDArray k = key.apply(ps, x, training);
        NDArray v = value.apply(ps, x, training);

        // span-based dynamic convolution
        NDArray convInput = paddingInvariant ? x.mul(realTokens) : x;
        NDArray keyConv = keyConvAttnLayer.apply(ps, convInput, training);            // [B, L, A]
        NDArray kernels = convKernelLayer.apply(ps, keyConv.mul(q), training)         // [B, L, H'·k]
                .reshape(b, len, heads, kernelSize)                                   // [B, L, H', k]
                .softmax(3);
        NDArray convValues = convOutLayer.apply(ps, x, training);                     // [B, L, A]
        if (paddingInvariant) {
            convValues = convValues.mul(realTokens);
        }
        NDArray convOut = SpanBasedDynamicConv.apply(convValues.reshape(b, len, heads, headSize), kernels)
                .reshape(b, len, (long) heads * headSize);                            // [B, L, A]

        // self-attention on H' heads
        NDArray qh = q.reshape(b, len, heads, headSize).transpose(0, 2, 1, 3);       // [B, H', L, D]
        NDArray kh = k.reshape(b, len, heads, headSize).transpose(0, 2, 3, 1);       // [B, H', D, L]
        NDArray vh = v.reshape(b, len, heads, headSize).transpose(0, 2, 1, 3);       // [B, H', L, D]
        NDArray scores = qh.matMul(kh).div(Scalars.like(qh, Math.sqrt(headSize))).add(additiveMask); // [B, H', L, L]
        NDArray probs = Dropout.dropout(scores.softmax(3), attentionDropout, training).singletonOrThrow();
        NDArray context = probs.matMul(vh).transpose(0, 2, 1, 3)
                .reshape(b, len, (long) heads * headSize);                            // [B, L, A]

        return new NDList(NDArrays.concat(new NDList(context, convOut), 2));          // [B, L, 2A = Hd]
    }
}
