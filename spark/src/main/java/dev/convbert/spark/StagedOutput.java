package dev.convbert.spark;

import dev.convbert.core.InvalidInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * spark-score's output directory, written under a temporary name beside it and renamed when complete: the rows appear
 * all at once or not at all (atomic on HDFS and local disks; S3 copies, see docs/SPARK.md). A Hadoop path, so the
 * executors of a cluster write where the driver can rename (HDFS, S3, a shared mount). The temporary name says which
 * driver writes it ({@code OUT.tmp-HOST-PID-UUID}), so a later run can tell a killed run's leftovers from a live one's.
 */
final class StagedOutput implements AutoCloseable {
    private final FileSystem fs;
    private final Path out;
    private final Path tmp;

    private StagedOutput(FileSystem fs, Path out, Path tmp) {
        this.fs = fs;
        this.out = out;
        this.tmp = tmp;
    }

    /** Refuses an existing {@code output}; removes this host's dead runs' leftovers and names the others'. */
    static StagedOutput create(String output, Configuration hadoop, PrintWriter console) throws IOException {
        Path given = new Path(output);
        FileSystem fs = given.getFileSystem(hadoop);
        Path out = fs.makeQualified(given);
        if (fs.exists(out)) {
            throw new InvalidInputException(out + ": already exists; spark-score writes a new directory (choose another --output)");
        }
        // beside the output (the rename stays on one file system); not hidden, which Spark's readers would skip
        String host = InetAddress.getLocalHost().getHostName();
        leftovers(fs, out, host, console);
        return new StagedOutput(fs, out, new Path(out.getParent(), out.getName() + ".tmp-" + host + "-"
                + ProcessHandle.current().pid() + "-" + UUID.randomUUID()));
    }

    /** Where the job writes. */
    Path tmp() {
        return tmp;
    }

    Path out() {
        return out;
    }

    FileSystem fs() {
        return fs;
    }

    /** The rows and report become the output. */
    void commit() throws IOException {
        if (!fs.rename(tmp, out)) {
            throw new IOException("could not rename " + tmp + " to " + out);
        }
    }

    /** Whatever was not committed is removed. */
    @Override
    public void close() throws IOException {
        if (fs.exists(tmp)) {
            fs.delete(tmp, true);
        }
    }

    private static void leftovers(FileSystem fs, Path out, String host, PrintWriter console) throws IOException {
        FileStatus[] found = fs.globStatus(new Path(out.getParent(), out.getName() + ".tmp-*"));
        if (found == null) {
            return;
        }
        Pattern mine = Pattern.compile(Pattern.quote(out.getName() + ".tmp-" + host + "-") + "(\\d+)-[0-9a-f-]{36}");
        for (FileStatus f : found) {
            Matcher m = mine.matcher(f.getPath().getName());
            if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(p -> !p.isAlive()).orElse(true)) {
                fs.delete(f.getPath(), true);
                console.println("spark-score: removed " + f.getPath() + ", left by a run on this host that did not finish");
            } else {
                console.println("spark-score: " + f.getPath() + " was left by another run (still running, or on another"
                        + " host); delete it once no run writes it");
            }
        }
    }
}
