package dev.convbert.exporter.onnx;

import dev.convbert.core.InvalidInputException;

import java.nio.file.Path;

/** A model directory that cannot be exported, or an export that failed its validation; names the file and tensor. */
public class ExportException extends InvalidInputException {
    public ExportException(Path where, String message) {
        super(where + ": " + message);
    }
}
