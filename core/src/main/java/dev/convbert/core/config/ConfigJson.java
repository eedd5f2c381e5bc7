package dev.convbert.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** {@link ConvBertConfig} as HF's config.json: HF's field names and defaults, errors that name the field. */
final class ConfigJson {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private static final Set<String> KNOWN = Set.of("vocab_size", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "hidden_act", "hidden_dropout_prob",
            "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "initializer_range",
            "layer_norm_eps", "pad_token_id", "embedding_size", "head_ratio", "conv_kernel_size", "num_groups",
            "classifier_dropout", "id2label", "label2id", "num_labels", "padding_invariant");

    private ConfigJson() {
    }

    static ConvBertConfig read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": expected a JSON object");
        }
        try {
            return fromJson((ObjectNode) root);
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    static ConvBertConfig fromJson(ObjectNode root) {
        var f = new Fields(root);
        List<String> labels = labels(root);
        return new ConvBertConfig(
                f.integer("vocab_size", 30522),
                f.integer("hidden_size", 768),
                f.integer("num_hidden_layers", 12),
                f.integer("num_attention_heads", 12),
                f.integer("intermediate_size", 3072),
                f.string("hidden_act", "gelu"),
                f.number("hidden_dropout_prob", 0.1),
                f.number("attention_probs_dropout_prob", 0.1),
                f.integer("max_position_embeddings", 512),
                f.integer("type_vocab_size", 2),
                f.number("initializer_range", 0.02),
                f.number("layer_norm_eps", 1e-12),
                f.integer("pad_token_id", 1),
                f.integer("embedding_size", 768),
                f.integer("head_ratio", 2),
                f.integer("conv_kernel_size", 9),
                f.integer("num_groups", 1),
                root.hasNonNull("classifier_dropout") ? f.number("classifier_dropout", 0.1) : null,
                labels,
                f.bool("padding_invariant", false),
                extras(root));
    }

    private static List<String> labels(ObjectNode root) {
        JsonNode id2label = root.get("id2label");
        JsonNode numLabels = root.get("num_labels");
        if (id2label != null && !id2label.isNull()) {
            if (!id2label.isObject()) {
                throw new ConfigException("field \"id2label\" must be an object {\"0\": name, …}");
            }
            TreeMap<Integer, String> byId = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = id2label.fields(); it.hasNext(); ) {
                var e = it.next();
                try {
                    byId.put(Integer.parseInt(e.getKey()), e.getValue().asText());
                } catch (NumberFormatException ex) {
                    throw new ConfigException("field \"id2label\": key \"" + e.getKey() + "\" is not a class index");
                }
            }
            if (byId.isEmpty() || byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
                throw new ConfigException("field \"id2label\": keys must be 0.." + (byId.size() - 1) + ", found " + byId.keySet());
            }
            if (numLabels != null && numLabels.asInt() != byId.size()) {
                throw new ConfigException("field \"num_labels\" is " + numLabels.asInt() + " but id2label has "
                        + byId.size() + " entries");
            }
            return new ArrayList<>(byId.values());
        }
        int n = numLabels == null ? 2 : numLabels.asInt();
        if (n < 1) {
            throw new ConfigException("field \"num_labels\" must be >= 1, found " + n);
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("LABEL_" + i);
        }
        return names;
    }

    private static ObjectNode extras(ObjectNode root) {
        ObjectNode extra = JsonNodeFactory.instance.objectNode();
        root.fields().forEachRemaining(e -> {
            if (!KNOWN.contains(e.getKey())) {
                extra.set(e.getKey(), e.getValue());
            }
        });
        return extra;
    }

    static ObjectNode toJson(ConvBertConfig c) {
        TreeMap<String, JsonNode> sorted = new TreeMap<>();
        c.extra().fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
        var n = JsonNodeFactory.instance;
        sorted.put("vocab_size", n.numberNode(c.vocabSize()));
        sorted.put("hidden_size", n.numberNode(c.hiddenSize()));
        sorted.put("num_hidden_layers", n.numberNode(c.numHiddenLayers()));
        sorted.put("num_attention_heads", n.numberNode(c.numAttentionHeads()));
        sorted.put("intermediate_size", n.numberNode(c.intermediateSize()));
        sorted.put("hidden_act", n.textNode(c.hiddenAct()));
        sorted.put("hidden_dropout_prob", n.numberNode(c.hiddenDropoutProb()));
        sorted.put("attention_probs_dropout_prob", n.numberNode(c.attentionProbsDropoutProb()));
        sorted.put("max_position_embeddings", n.numberNode(c.maxPositionEmbeddings()));
        sorted.put("type_vocab_size", n.numberNode(c.typeVocabSize()));
        sorted.put("initializer_range", n.numberNode(c.initializerRange()));
        sorted.put("layer_norm_eps", n.numberNode(c.layerNormEps()));
        sorted.put("pad_token_id", n.numberNode(c.padTokenId()));
        sorted.put("embedding_size", n.numberNode(c.embeddingSize()));
        sorted.put("head_ratio", n.numberNode(c.headRatio()));
        sorted.put("conv_kernel_size", n.numberNode(c.convKernelSize()));
        sorted.put("num_groups", n.numberNode(c.numGroups()));
        sorted.put("classifier_dropout", c.classifierDropout() == null ? n.nullNode() : n.numberNode(c.classifierDropout()));
        ObjectNode id2 = n.objectNode();
        ObjectNode l2i = n.objectNode();
        for (int i = 0; i < c.id2label().size(); i++) {
            id2.put(Integer.toString(i), c.id2label().get(i));
            l2i.put(c.id2label().get(i), i);
        }
        sorted.put("id2label", id2);
        sorted.put("label2id", l2i);
        sorted.put("num_labels", n.numberNode(c.id2label().size()));
        if (c.paddingInvariant()) {
            sorted.put("padding_invariant", n.booleanNode(true));
        }
        ObjectNode out = n.objectNode();
        sorted.forEach(out::set);
        return out;
    }

    /** Typed field access with HF defaults and errors that name the field. */
    private record Fields(ObjectNode root) {
        int integer(String name, int dflt) {
            return field(name, dflt, v -> v.isIntegralNumber() && v.canConvertToInt(), "an integer", JsonNode::asInt);
        }

        double number(String name, double dflt) {
            return field(name, dflt, JsonNode::isNumber, "a number", JsonNode::asDouble);
        }

        String string(String name, String dflt) {
            return field(name, dflt, JsonNode::isTextual, "a string", JsonNode::asText);
        }

        boolean bool(String name, boolean dflt) {
            return field(name, dflt, JsonNode::isBoolean, "true or false", JsonNode::asBoolean);
        }

        /** {@code dflt} when the field is absent or null; else its value, if it is {@code expected}. */
        private <T> T field(String name, T dflt, java.util.function.Predicate<JsonNode> is, String expected,
                            java.util.function.Function<JsonNode, T> value) {
            JsonNode v = root.get(name);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!is.test(v)) {
                throw new ConfigException("field \"" + name + "\" must be " + expected + ", found " + v);
            }
            return value.apply(v);
        }
    }
}
