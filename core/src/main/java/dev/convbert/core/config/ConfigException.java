package dev.convbert.core.config;

/** A config.json (or a preset) that cannot describe a ConvBERT model; the message names the field and the values. */
public class ConfigException extends dev.convbert.core.InvalidInputException {
    public ConfigException(String message) {
        super(message);
    }
}
