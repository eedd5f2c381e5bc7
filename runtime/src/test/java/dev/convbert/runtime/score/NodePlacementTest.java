package dev.convbert.runtime.score;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convbert.runtime.TinyModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU placement check on the real node list of one of our exports: ORT's profile of a CPU run supplies every
 * executed node with its operator and tensor types; the test then places them as a CUDA session would (shape and index
 * arithmetic on the CPU, the rest on CUDA) and moves compute nodes back to the CPU to see the check refuse them.
 */
class NodePlacementTest {
    static List<NodePlacement.Node> nodes;

    @BeforeAll
    static void profileTheTinyExport(@TempDir Path dir) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.enableProfiling(dir.resolve("p").toString());
            try (OrtSession s = env.createSession(TinyModel.ONNX.toString(), so);
                 OnnxTensor ids = OnnxTensor.createTensor(env, new long[][]{{101, 2023, 2003, 102}, {101, 2204, 102, 0}});
                 OnnxTensor mask = OnnxTensor.createTensor(env, new long[][]{{1, 1, 1, 1}, {1, 1, 1, 0}});
                 OnnxTensor types = OnnxTensor.createTensor(env, new long[2][4]);
                 OrtSession.Result r = s.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
                nodes = NodePlacement.fromProfile(new ObjectMapper().readTree(Path.of(s.endProfiling()).toFile()));
            }
        }
    }

    @Test
    void theProfileListsEveryExecutedNodeWithItsTypes() {
        assertTrue(nodes.size() > 50, "nodes: " + nodes.size());
        assertTrue(nodes.stream().allMatch(n -> n.provider().equals(NodePlacement.CPU)));
        assertTrue(nodes.stream().anyMatch(n -> n.op().equals("Shape") && n.types().contains("int64")));
        assertTrue(nodes.stream().anyMatch(n -> n.op().equals("MatMul") || n.op().equals("Gemm") || n.op().equals("FusedMatMul")));
        assertEquals(nodes.size(), nodes.stream().map(NodePlacement.Node::name).distinct().count(), "each node once");
    }

    @Test
    void shapeArithmeticOnTheCpuIsOrtsOwnPlacementAndAccepted() {
        NodePlacement.Verdict v = NodePlacement.check(asCudaWould(nodes));
        assertTrue(v.ok(), v.summary());
        assertTrue(v.shapeNodesOnCpu().stream().anyMatch(n -> n.op().equals("Shape")), v.summary());
        assertTrue(v.nodesByProvider().get("CUDAExecutionProvider") > v.shapeNodesOnCpu().size(), v.summary());
    }

    @Test
    void aComputeNodeOnTheCpuIsRefusedByName() {
        List<NodePlacement.Node> placed = new ArrayList<>(asCudaWould(nodes));
        int matmul = indexOf(placed, "MatMul", "Gemm", "FusedMatMul");
        NodePlacement.Node m = placed.get(matmul);
        placed.set(matmul, new NodePlacement.Node(m.name(), m.op(), NodePlacement.CPU, m.types()));
        NodePlacement.Verdict v = NodePlacement.check(placed);
        assertFalse(v.ok());
        assertTrue(v.summary().contains(m.op()) && v.summary().contains(m.name()), v.summary());
    }

    @Test
    void anyFloatTensorOnTheCpuIsRefused() {
        List<NodePlacement.Node> placed = new ArrayList<>(asCudaWould(nodes));
        int add = indexOf(placed, "Add");
        NodePlacement.Node a = placed.get(add);
        assertTrue(a.types().contains("float"), a.toString());
        placed.set(add, new NodePlacement.Node(a.name(), a.op(), NodePlacement.CPU, a.types()));
        assertFalse(NodePlacement.check(placed).ok());
    }

    /** This CPU build has no CUDA provider: refused with what to do, or the CPU with --allow-fallback, said so. */
    @Test
    void aGpuProviderThatCannotLoadIsRefusedOrFallsBackWhenAllowed() {
        org.junit.jupiter.api.Assumptions.assumeFalse(ai.onnxruntime.OrtEnvironment.getAvailableProviders()
                .contains(ai.onnxruntime.OrtProvider.CUDA), "a CUDA build: the provider is there");
        var e = assertThrows(dev.convbert.core.CommandFailedException.class, () -> OrtModel.open(TinyModel.ONNX,
                ExecutionProvider.parse("cuda", 0, false, null, null, false)));
        assertTrue(e.getMessage().contains("--allow-fallback"), e.getMessage());
        try (OrtModel m = OrtModel.open(TinyModel.ONNX, ExecutionProvider.parse("tensorrt", 0, true, null, null, true))) {
            assertTrue(m.provider().startsWith("cpu (fallback: tensorrt provider requested"), m.provider());
            assertTrue(m.placement().isEmpty());
            assertEquals(2, m.run(new long[][]{{101, 102}}, new long[1][2], new long[][]{{1, 1}}, false).logits()[0].length);
        }
    }

    /** ORT keeps nodes that only handle integers (shapes, indices) on the CPU; everything else goes to CUDA. */
    static List<NodePlacement.Node> asCudaWould(List<NodePlacement.Node> profiled) {
        return profiled.stream().map(n -> new NodePlacement.Node(n.name(), n.op(),
                n.types().stream().allMatch(t -> t.startsWith("int") || t.equals("bool")) ? NodePlacement.CPU
                        : "CUDAExecutionProvider", n.types())).toList();
    }

    private static int indexOf(List<NodePlacement.Node> placed, String... ops) {
        for (int i = 0; i < placed.size(); i++) {
            if (List.of(ops).contains(placed.get(i).op()) && !placed.get(i).provider().equals(NodePlacement.CPU)) {
                return i;
            }
        }
        throw new AssertionError("no " + List.of(ops) + " node on CUDA");
    }
}
