package dev.convbert.trainer;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command of this project in a JVM of its own, for what only a real process shows: a kill -9, a signal, a file-size
 * limit. The child's SIGINT and SIGTERM are reset to their default first ({@code env --default-signal}): a build run
 * as a background job inherits SIGINT ignored, and an ignored signal stays ignored across exec.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** Starts {@code mainClass args…} in {@code workDir}, output (both streams) to {@code log}; {@code limits}: a bash ulimit line or null. */
    public static Process start(Path workDir, Path log, String limits, String mainClass, List<String> args) throws IOException {
        List<String> java = new ArrayList<>(List.of("env", "--default-signal=INT,TERM",
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true", mainClass));
        java.addAll(args);
        List<String> cmd = java;
        if (limits != null) {
            cmd = new ArrayList<>(List.of("bash", "-c", limits + "; exec \"$@\"", "bash"));
            cmd.addAll(java);
        }
        return new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Sends {@code signal} ("INT", "TERM", "KILL") to the child. */
    public static void signal(Process p, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(p.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -s " + signal + " " + p.pid() + " failed");
        }
    }

    /** The child's exit code, waiting at most {@code seconds}; a child still running then is killed and the test fails. */
    public static int exit(Process p, Path log, int seconds) throws Exception {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("the child did not exit within " + seconds + " s: " + Files.readString(log));
        }
        return p.exitValue();
    }
}
