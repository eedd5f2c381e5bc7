/**
 * The runtime's commands, score and serve, and the ONNX Runtime options other modules' commands mix in
 * ({@link dev.convbert.runtime.cli.ProviderOptions}: provider, GPU, TensorRT settings, fallback).
 */
package dev.convbert.runtime.cli;
