/** Running a model, independent of the engine: the {@code Predictor} SPI behind {@code convbert predict}. */
package dev.convbert.core.predict;
