/**
 * The safetensors weight format (HF's {@code model.safetensors}): a validating, memory-mapping reader and an atomic
 * writer. No pickle format is ever read anywhere in this project.
 */
package dev.convbert.core.safetensors;
