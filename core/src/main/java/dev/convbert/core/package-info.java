/**
 * Shared by every module: config ({@code config}), the model directory and safetensors ({@code modeldir},
 * {@code safetensors}), tokenizer ({@code tokenize}), GLUE ({@code glue}, {@code metrics}), crash-safe files
 * ({@code io}) and the command-line frame ({@code cli}). No DJL here: the runtime and exporter depend on it.
 */
package dev.convbert.core;
