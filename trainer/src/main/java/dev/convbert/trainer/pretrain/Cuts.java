package dev.convbert.trainer.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the shard's documents lost: documents skipped whole for their size, and lines longer than an example, which
 * ELECTRA's builder truncates to the example (segment A holds at most max − 2 tokens).
 */
record Cuts(int oversizedDocuments, int documentsWithLongLines, long longLines, long tokensCut) {
    static final Cuts NONE = new Cuts(0, 0, 0, 0);

    Cuts plus(Cuts o) {
        return new Cuts(oversizedDocuments + o.oversizedDocuments, documentsWithLongLines + o.documentsWithLongLines,
                longLines + o.longLines, tokensCut + o.tokensCut);
    }

    ObjectNode toJson() {
        return JsonNodeFactory.instance.objectNode().put("documents_over_max_document_bytes", oversizedDocuments)
                .put("documents_with_lines_over_max_seq_length", documentsWithLongLines)
                .put("lines_over_max_seq_length", longLines).put("tokens_cut_from_long_lines", tokensCut);
    }

    static Cuts fromJson(JsonNode n) {
        return new Cuts(n.path("documents_over_max_document_bytes").asInt(), n.path("documents_with_lines_over_max_seq_length").asInt(),
                n.path("lines_over_max_seq_length").asLong(), n.path("tokens_cut_from_long_lines").asLong());
    }
}
