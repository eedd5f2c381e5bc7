/**
 * ConvBERT → ONNX with the protobuf classes of tribuo-util-onnx: {@link dev.convbert.exporter.onnx.ConvBertOps}
 * declares every operator once (our function's name and domain too), {@link dev.convbert.exporter.onnx.GraphBuilder}
 * writes one op per call, {@link dev.convbert.exporter.onnx.SpanDynamicConvFunction} is the fused convolution,
 * {@link dev.convbert.exporter.onnx.OnnxExporter} the graph, {@link dev.convbert.exporter.onnx.ExportWeights} the
 * weights as the graph reads them, {@link dev.convbert.exporter.onnx.Int8Columns} and
 * {@link dev.convbert.exporter.onnx.Calibrator} int8's arithmetic and static ranges, and
 * {@link dev.convbert.exporter.onnx.ExportPackage} the files an export lands as. No DJL here.
 */
package dev.convbert.exporter.onnx;
