/**
 * Measurements, each a command that reports what it measured in JSON (and CSV/PNG/Markdown where useful): the gated
 * latency grid, the serve load test, DJL throughput against the matmul peak, export formulations, tokenizer parity and
 * speed, and training-curve plots. This module also assembles the CLI classpath (it depends on every other module).
 */
package dev.convbert.benchmarks;
