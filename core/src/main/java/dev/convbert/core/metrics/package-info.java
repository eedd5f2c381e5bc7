/** GLUE metrics, shared by training-time evaluation and ONNX Runtime scoring so both compute the same numbers. */
package dev.convbert.core.metrics;
