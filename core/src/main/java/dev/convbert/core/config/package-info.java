/** ConvBERT hyper-parameters as HuggingFace's {@code config.json}, with the paper's presets. */
package dev.convbert.core.config;
