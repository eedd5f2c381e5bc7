/** Crash-safe file output shared by every module: temp file, fsync, atomic rename. */
package dev.convbert.core.io;
