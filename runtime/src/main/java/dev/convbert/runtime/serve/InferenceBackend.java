package dev.convbert.runtime.serve;

import dev.convbert.core.config.ConvBertConfig;
import dev.convbert.core.tokenize.Encoding;

import java.util.List;

/** What a protocol ({@link V1Protocol}, {@link OpenInferenceProtocol}) needs of the server: the model and its batcher. */
interface InferenceBackend {
    /** Loaded, warmed up, not stopping and not failed. */
    boolean ready();

    ConvBertConfig config();

    /** Runs the rows through the micro-batcher; the status and message that replace them when they cannot run. */
    Result infer(List<Encoding> rows, long timeoutMs);

    /** Logits per row, or the status and message that replace them. */
    record Result(List<float[]> logits, int status, String error) {}
}
