package dev.convbert.exporter.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.List;
import java.util.Map;

/**
 * The span-based dynamic convolution of one layer as a single ONNX node: {@code dev.convbert:SpanDynamicConv}, a
 * model-local function (FunctionProto) built only from standard opset-17 operators, so any runtime that honours
 * local functions runs it as is; {@code --inline} writes the same body into the graph instead.
 *
 * <pre>
 * SpanDynamicConv(X [B,L,Hd], Q [B,L,A], V [B,L,A], M [B,L,1],
 *                 DW [Hd,1,k], PW [A,Hd,1], PB [A], CK [A,H'k], CKB [H'k]) -> Y [B,L,A]
 *   key   = Conv(Conv(Transpose(X·M), DW, group=Hd, pads=k/2), PW, PB)          span-aware key, [B,L,A]
 *   kern  = Softmax(Reshape((key ⊙ Q)·CK + CKB, [B,L,H',k]), over k)           dynamic kernels
 *   Y[l]  = Σ_j kern[l, j] · (V·M)[l + j − (k−1)/2]   (zero outside the sequence)   the window, per head
 * </pre>
 * Q is the query projection and V the conv_out_layer projection of X: the caller computes both in one product with the
 * key and value projections. M (the real-token mask) only enters in padding-invariant mode; in HF mode padding flows
 * through as in HF and TF. The window is a banded [L,L] matrix per head times V by default; k shifted slices and a
 * Gather of an unfolded [B,L,k,H',D] window (HF's {@code unfold}) are kept for measurement.
 */
public record SpanDynamicConvFunction(int hidden, int kernel, int headSize, boolean paddingInvariant, int type,
        Formulation formulation) {
    static final List<String> INPUTS = List.of("X", "Q", "V", "M", "DW", "PW", "PB", "CK", "CKB");

    /** How the window sum is computed. */
    public enum Formulation { SHIFTED_SLICES, GATHER_UNFOLD, BANDED_MATMUL }

    /** The FunctionProto; its body uses only the default ONNX domain. */
    public OnnxMl.FunctionProto function() {
        GraphBuilder g = new GraphBuilder(ConvBertOps.SPAN_DYNAMIC_CONV.opName());
        String y = emit(g, INPUTS.toArray(String[]::new));
        g.node(ConvBertOps.IDENTITY, Map.of(), List.of("Y"), y);
        return OnnxMl.FunctionProto.newBuilder()
                .setName(ConvBertOps.SPAN_DYNAMIC_CONV.opName())
                .setDomain(ConvBertOps.SPAN_DYNAMIC_CONV.domain())
                .addAllInput(INPUTS)
                .addOutput("Y")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(ConvBertOps.ONNX_OPSET))
                .addAllNode(g.nodes())
                .setDocString("ConvBERT span-based dynamic convolution (k=" + kernel + ", head size " + headSize
                        + (paddingInvariant ? ", padding-invariant" : ", HF padding semantics") + ")")
                .build();
    }

    /** Writes the body into {@code g} on the given inputs (in {@link #INPUTS} order); returns Y. */
    public String emit(GraphBuilder g, String... in) {
        String x = in[0], q = in[1], values = in[2], m = in[3];
        int pad = (kernel - 1) / 2;
        String convIn = paddingInvariant ? g.mul(x, m) : x;
        String depthwise = g.op(ConvBertOps.CONV, Map.of("group", (long) hidden, "kernel_shape", new long[]{kernel},
                "pads", new long[]{kernel / 2, kernel / 2}), g.transpose(convIn, 0, 2, 1), in[4]);          // [B,Hd,L]
        String key = g.transpose(g.op(ConvBertOps.CONV, Map.of("kernel_shape", new long[]{1}), depthwise, in[5], in[6]),
                0, 2, 1);                                                                                   // [B,L,A]
        String logits = g.add(g.matMul(g.mul(key, q), in[7]), in[8]);                                     // [B,L,H'k]
        String kern = g.reshape(logits, g.ints(0, 0, -1, kernel));                                          // [B,L,H',k]
        kern = type == GraphBuilder.FLOAT16
                ? g.cast(g.softmax(g.cast(kern, GraphBuilder.FLOAT), -1), GraphBuilder.FLOAT16)
                : g.softmax(kern, -1);
        if (paddingInvariant) {
            values = g.mul(values, m);
        }
        String v4 = g.reshape(values, g.ints(0, 0, -1, headSize));                                          // [B,L,H',D]
        String out = switch (formulation) {
            case SHIFTED_SLICES -> shiftedSlices(g, x, g.op(ConvBertOps.PAD, v4, g.ints(0, pad, 0, 0, 0, pad, 0, 0)), kern);
            case GATHER_UNFOLD -> gatherUnfold(g, x, g.op(ConvBertOps.PAD, v4, g.ints(0, pad, 0, 0, 0, pad, 0, 0)), kern);
            case BANDED_MATMUL -> bandedMatMul(g, x, v4, kern);
        };
        return g.reshape(out, g.ints(0, 0, -1));                                                            // [B,L,A]
    }

    /**
     * The window as one MatMul per head with a banded [L,L] matrix A[l, l+j-p] = kern[l, j] (zero off the band, so
     * positions outside the sequence drop out as with zero padding). A is built by the skewing trick: each kernel row
     * padded with L zeros to L+k, the rows flattened, the last L values cut, and the rest read as rows of L+k-1 —
     * which shifts row l right by l. Six data nodes instead of 3k, at L²·D instead of L·k·D multiply-adds.
     */
    private String bandedMatMul(GraphBuilder g, String x, String v4, String kern) {
        int pad = (kernel - 1) / 2;
        String len = g.op(ConvBertOps.SHAPE, Map.of("start", 1L, "end", 2L), x);                           // [1] = L
        String width = g.add(len, g.ints(kernel - 1));                                                      // [1] = L+k-1
        String rows = g.transpose(kern, 0, 2, 1, 3);                                                        // [B,H',L,k]
        String padded = g.op(ConvBertOps.PAD, rows, g.concat(0, g.ints(0, 0, 0, 0, 0, 0, 0), len));         // [B,H',L,k+L]
        String flat = g.reshape(padded, g.ints(0, 0, -1));                                                  // [B,H',L·(k+L)]
        String cut = g.slice(flat, g.ints(0), g.mul(len, width), g.ints(2));                                // [B,H',L·(L+k-1)]
        String skewed = g.reshape(cut, g.concat(0, g.ints(0, 0), len, width));                              // [B,H',L,L+k-1]
        String band = g.slice(skewed, g.ints(pad), g.add(len, g.ints(pad)), g.ints(3));                     // [B,H',L,L]
        String heads = g.matMul(band, g.transpose(v4, 0, 2, 1, 3));                                         // [B,H',L,D]
        return g.transpose(heads, 0, 2, 1, 3);                                                              // [B,L,H',D]
    }

    private String shiftedSlices(GraphBuilder g, String x, String padded, String kern) {
        String len = g.op(ConvBertOps.SHAPE, Map.of("start", 1L, "end", 2L), x);                           // [1] = L
        String axisL = g.ints(1);
        String axisK = g.ints(3);
        String acc = null;
        for (int j = 0; j < kernel; j++) {
            String start = g.ints(j);
            String window = g.slice(padded, start, g.add(len, start), axisL);                               // [B,L,H',D]
            String tap = g.slice(kern, start, g.ints(j + 1), axisK);                                        // [B,L,H',1]
            String term = g.mul(window, tap);
            acc = acc == null ? term : g.add(acc, term);
        }
        return acc;
    }

    private String gatherUnfold(GraphBuilder g, String x, String padded, String kern) {
        String len = g.gather(g.shape(x), g.scalarInt(1), 0);                                               // scalar L
        String positions = g.unsqueeze(g.range(g.scalarInt(0), len, g.scalarInt(1)), 1);                    // [L,1]
        String taps = g.unsqueeze(g.range(g.scalarInt(0), g.scalarInt(kernel), g.scalarInt(1)), 0);         // [1,k]
        String windows = g.gather(padded, g.add(positions, taps), 1);                                       // [B,L,k,H',D]
        String weights = g.unsqueeze(g.transpose(kern, 0, 1, 3, 2), 4);                                     // [B,L,k,H',1]
        return g.reduceSum(g.mul(windows, weights), 2);                                                     // [B,L,H',D]
    }
}
