/**
 * File output and console progress shared by every module: crash-safe writes (temp file, fsync, atomic rename),
 * hashing, output locks and paths checked against the inputs, and the progress line long commands print.
 */
package dev.convbert.core.io;
