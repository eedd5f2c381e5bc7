/** The on-disk model format shared by every module: HuggingFace's directory layout. */
package dev.convbert.core.modeldir;
