/**
 * Batch scoring on Apache Spark: {@code convbert spark-score} and the same job for {@code spark-submit}. The exported
 * model is shipped to every executor once, each executor JVM opens one ONNX Runtime session that all its tasks share,
 * and each partition is tokenised and scored in length-sorted passes.
 */
package dev.convbert.spark;
