package dev.convbert.benchmarks;

import dev.convbert.core.cli.ConvBertCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command's {@code --help} as a user reads it: each option says what it does and, unless it is required or a
 * flag, what it defaults to; every line fits the help's width once (no description line that picocli must wrap again).
 */
class HelpTest {
    @Test
    void everyOptionIsDescribedWithItsDefaultAndNoLineIsWrappedTwice() {
        CommandLine cli = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        List<String> problems = new ArrayList<>();
        int commands = 0;
        for (Map.Entry<String, CommandLine> e : cli.getSubcommands().entrySet()) {
            commands++;
            CommandLine sub = e.getValue();
            // inherited from the root command, not restated by each module
            if (!sub.getCommandSpec().mixinStandardHelpOptions() || sub.getCommandSpec().findOption("--help") == null
                    || sub.getCommandSpec().findOption("--version") == null) {
                problems.add(e.getKey() + ": no --help/--version");
            }
            if (sub.getCommandSpec().usageMessage().sortOptions()) {
                problems.add(e.getKey() + ": options listed by letter, not in the order they are declared");
            }
            for (CommandLine.Model.OptionSpec o : sub.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String where = e.getKey() + " " + o.longestName();
                String text = String.join(" ", o.description()).strip();
                if (text.isEmpty()) {
                    problems.add(where + ": no description");
                    continue;
                }
                boolean flag = o.arity().max() == 0;
                boolean saysDefault = text.contains("${DEFAULT-VALUE}") || text.toLowerCase(java.util.Locale.ROOT).contains("default");
                if (!o.required() && !flag && !saysDefault) {
                    problems.add(where + ": no default in its description");
                }
            }
            // a description line longer than its column is wrapped again by picocli: the help reads ragged
            CommandLine.Help help = sub.getHelp();
            for (CommandLine.Model.OptionSpec o : sub.getCommandSpec().options()) {
                String rendered = help.optionListExcludingGroups(List.of(o));
                long lines = rendered.lines().count();
                boolean namesOwnLine = rendered.lines().findFirst().map(l -> l.strip().startsWith("-") && l.strip().split("\\s{2,}").length == 1).orElse(false);
                long expected = Math.max(1, o.description().length) + (namesOwnLine ? 1 : 0);
                // one string is wrapped once, by picocli; lines given by hand must each fit, or they are wrapped twice
                if (o.description().length > 1 && lines > expected) {
                    problems.add(e.getKey() + " " + o.longestName() + ": its description is wrapped twice (" + lines
                            + " lines for " + o.description().length + "): " + rendered.strip().replaceAll("\\s+", " "));
                }
            }
            // the command's own description: a paragraph is one string, which picocli wraps once; prose broken into
            // lines by hand is wrapped again wherever the width differs from the author's
            String[] given = sub.getCommandSpec().usageMessage().description();
            for (int i = 0; i + 1 < given.length; i++) {
                if (!given[i].isBlank() && !given[i + 1].isBlank()) {
                    problems.add(e.getKey() + ": a paragraph of its description is broken into lines by hand at \""
                            + given[i] + "\"");
                }
            }
            // and it ends with examples of itself, under the heading every command inherits, each line whole
            String[] examples = sub.getCommandSpec().usageMessage().footer();
            if (examples.length == 0 || !examples[0].startsWith("  convbert " + e.getKey() + " ")
                    || !sub.getHelp().footerHeading().contains("Examples:")) {
                problems.add(e.getKey() + ": no example of itself under Examples:");
            }
            int width = sub.getUsageHelpWidth();
            for (String example : examples) {
                if (example.length() > width) {
                    problems.add(e.getKey() + ": example line longer than the help's " + width + " columns: " + example);
                }
            }
        }
        assertTrue(commands >= 20, "every module's commands are registered: " + commands);
        assertEquals(List.of(), problems, problems.size() + " problems");
    }

    /**
     * An option that means the same in two commands is declared once, in a mixin both use: the same name with the same
     * description declared in two classes is one option written twice.
     */
    @Test
    void anOptionSharedByCommandsIsDeclaredOnce() {
        CommandLine cli = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        Map<String, java.util.Set<String>> declaredIn = new java.util.TreeMap<>();
        for (Map.Entry<String, CommandLine> e : cli.getSubcommands().entrySet()) {
            for (CommandLine.Model.OptionSpec o : e.getValue().getCommandSpec().options()) {
                if (o.userObject() instanceof java.lang.reflect.Member m) {
                    declaredIn.computeIfAbsent(o.longestName() + " \"" + String.join(" ", o.description()) + "\"",
                            k -> new java.util.TreeSet<>()).add(m.getDeclaringClass().getSimpleName());
                }
            }
        }
        List<String> twice = declaredIn.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(e -> e.getKey() + " in " + e.getValue()).toList();
        assertEquals(List.of(), twice);
    }
}
