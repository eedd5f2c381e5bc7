/**
 * ONNX Runtime scoring: {@link dev.convbert.runtime.score.OrtModel} (an exported model in a session),
 * {@link dev.convbert.runtime.score.ExecutionProvider} (CPU, CUDA, TensorRT), GLUE scoring and the
 * {@link dev.convbert.runtime.score.AccuracyGate}. No DJL here.
 */
package dev.convbert.runtime.score;
