package dev.convbert.benchmarks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.cli.ConvBertCli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** gpu-check's verdicts: each check's numbers and PASS/FAIL into its JSON node and the console, failures kept by name. */
final class CheckLog {
    private final List<String> failures = new ArrayList<>();

    List<String> failures() {
        return failures;
    }

    void judge(ObjectNode check, String name, boolean passed, Map<String, Double> numbers) {
        check.put("check", name);
        numbers.forEach(check::put);
        check.put("passed", passed);
        System.out.printf("%-40s %s %s%n", name, passed ? "PASS" : "FAIL", numbers);
        if (!passed) {
            failures.add(name);
        }
    }

    void fail(ObjectNode check, String name, String why) {
        check.put("check", name);
        check.put("passed", false);
        check.put("error", why);
        System.out.printf("%-40s FAIL %s%n", name, why);
        failures.add(name);
    }

    /** Runs {@code convbert <args>} in this JVM; a non-zero exit fails {@code check} with what the command said. */
    boolean convbert(ObjectNode check, String name, String... args) {
        StringWriter err = new StringWriter();
        int code = ConvBertCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err)).execute(args);
        if (code != 0) {
            fail(check, name, "convbert " + String.join(" ", args) + " exited " + code + ": " + err.toString().strip());
        }
        return code == 0;
    }
}
