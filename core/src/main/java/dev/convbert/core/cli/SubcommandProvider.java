package dev.convbert.core.cli;

import java.util.List;

/**
 * Lets each module contribute its picocli commands to {@code convbert} (found with {@link java.util.ServiceLoader}),
 * so the entry point lives in core while the commands live with the capability they drive.
 */
public interface SubcommandProvider {
    /** Instances of {@code @Command}-annotated classes. */
    List<Object> commands();
}
