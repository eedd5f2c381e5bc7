package dev.convbert.runtime.score;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where ONNX Runtime ran each node of a GPU session, read from its profile, and whether that is acceptable.
 *
 * <p>With the CUDA provider ORT deliberately keeps shape computations on the CPU ({@code Shape} and the
 * {@code Gather}/{@code Concat}/{@code Range}/{@code Unsqueeze} nodes fed by it — onnxruntime PR #4940, "Place shape
 * related compute nodes in CPU"; its session_state.cc warns "Some nodes were not assigned to the preferred execution
 * providers … ORT explicitly assigns shape related ops to CPU to improve perf", issue #17930). The session option
 * {@code session.disable_cpu_ep_fallback} fails session creation whenever any node is on the CPU (PR #16016), so it
 * refuses every export of ours. The check here is the one that matters: a node on the CPU may only handle integer and
 * boolean tensors (shapes, indices, masks before they are cast); a node on the CPU that reads or writes a floating-point
 * tensor, or any of the heavy operators, means the model's compute left the GPU.
 */
public final class NodePlacement {
    public static final String CPU = "CPUExecutionProvider";
    private static final Set<String> INTEGER_TYPES = Set.of("int64", "int32", "int16", "int8", "uint64", "uint32",
            "uint16", "uint8", "bool");
    /** Never acceptable on the CPU of a GPU session, whatever their types. */
    private static final Set<String> COMPUTE_OPS = Set.of("MatMul", "Gemm", "Conv", "Softmax", "LayerNormalization",
            "SkipLayerNormalization", "SimplifiedLayerNormalization", "Attention", "MultiHeadAttention", "FusedMatMul",
            "MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "Gelu", "FastGelu", "BiasGelu", "Erf",
            "Einsum", "SpanDynamicConv");

    private NodePlacement() {}

    /** One executed node: its name, operator, provider, and the element types of its inputs and outputs. */
    public record Node(String name, String op, String provider, List<String> types) {
        boolean onlyIntegers() {
            return INTEGER_TYPES.containsAll(types);
        }
    }

    /**
     * What the placement means for a session that asked for {@code requested}.
     *
     * @param nodesByProvider how many nodes each provider ran
     * @param shapeNodesOnCpu integer-only nodes on the CPU: ORT's deliberate placement, reported
     * @param computeOnCpu    floating-point or heavy nodes on the CPU: the reason to refuse
     */
    public record Verdict(Map<String, Integer> nodesByProvider, List<Node> shapeNodesOnCpu, List<Node> computeOnCpu) {
        public boolean ok() {
            return computeOnCpu.isEmpty();
        }

        /** One line: the counts, and the offending operators when there are any. */
        public String summary() {
            StringBuilder sb = new StringBuilder("nodes by provider " + nodesByProvider);
            if (!shapeNodesOnCpu.isEmpty()) {
                sb.append("; ").append(shapeNodesOnCpu.size()).append(" shape/index nodes on the CPU (ORT's own placement)");
            }
            if (!computeOnCpu.isEmpty()) {
                Map<String, Integer> ops = new TreeMap<>();
                computeOnCpu.forEach(n -> ops.merge(n.op(), 1, Integer::sum));
                sb.append("; compute on the CPU: ").append(ops).append(" (e.g. ").append(computeOnCpu.get(0).name()).append(')');
            }
            return sb.toString();
        }
    }

    /** The executed nodes of an ORT profile (the JSON array {@code OrtSession.endProfiling} wrote), once each. */
    public static List<Node> fromProfile(JsonNode events) {
        Map<String, Node> nodes = new LinkedHashMap<>();
        for (JsonNode e : events) {
            JsonNode args = e.path("args");
            if (!"Node".equals(e.path("cat").asText()) || !args.has("provider") || !args.has("op_name")) {
                continue;
            }
            String name = e.path("name").asText().replaceFirst("_(kernel_time|fence_before|fence_after)$", "");
            List<String> types = new ArrayList<>();
            for (String side : new String[]{"input_type_shape", "output_type_shape"}) {
                for (JsonNode t : args.path(side)) {
                    t.fieldNames().forEachRemaining(types::add);
                }
            }
            nodes.putIfAbsent(name, new Node(name, args.get("op_name").asText(), args.get("provider").asText(), types));
        }
        return new ArrayList<>(nodes.values());
    }

    /** Judges {@code nodes} of a session on a GPU provider. */
    public static Verdict check(List<Node> nodes) {
        Map<String, Integer> byProvider = new TreeMap<>();
        List<Node> shape = new ArrayList<>();
        List<Node> compute = new ArrayList<>();
        for (Node n : nodes) {
            byProvider.merge(n.provider(), 1, Integer::sum);
            if (!n.provider().equals(CPU)) {
                continue;
            }
            if (COMPUTE_OPS.contains(n.op()) || !n.onlyIntegers()) {
                compute.add(n);
            } else {
                shape.add(n);
            }
        }
        return new Verdict(byProvider, shape, compute);
    }
}
