package dev.convbert.core.safetensors;

import java.nio.file.Path;

/** A safetensors file broke one of the format's rules; the message names the file, the rule and the tensor. */
public class SafetensorsFormatException extends dev.convbert.core.InvalidInputException {
    private final Path file;

    public SafetensorsFormatException(Path file, String message) {
        super(file.getFileName() + ": " + message);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
