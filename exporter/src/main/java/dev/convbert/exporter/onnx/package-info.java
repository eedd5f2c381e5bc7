/**
 * ConvBERT → ONNX with the protobuf classes of tribuo-util-onnx: {@link dev.convbert.exporter.onnx.ConvBertOps}
 * declares every operator once, {@link dev.convbert.exporter.onnx.GraphBuilder} writes one op per call,
 * {@link dev.convbert.exporter.onnx.SpanDynamicConvFunction} is the fused convolution and
 * {@link dev.convbert.exporter.onnx.OnnxExporter} the model. No DJL here.
 */
package dev.convbert.exporter.onnx;
