package dev.convbert.core.glue;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The GLUE tasks in their original TSV layout: where each split lives, which columns hold the texts and the label,
 * the label strings (in class-index order, as the GLUE server expects them) and the metric GLUE reports.
 *
 * <p>Columns are found by header name where a file has a header; CoLA's train/dev files have none and use fixed
 * positions (source, label, original label, sentence).
 */
public enum GlueTask {
    COLA("cola", "CoLA", List.of("0", "1"), Metric.MCC,
            List.of(Split.headerless("train", "train.tsv", 3, -1, 1, 4), Split.headerless("dev", "dev.tsv", 3, -1, 1, 4),
                    Split.test("test", "test.tsv", "sentence", null, "CoLA.tsv"))),
    SST_2("sst-2", "SST-2", List.of("0", "1"), Metric.ACCURACY,
            Split.standard("sentence", null, "label", "SST-2.tsv")),
    MRPC("mrpc", "MRPC", List.of("0", "1"), Metric.ACC_AND_F1,
            Split.standard("#1 String", "#2 String", "Quality", "MRPC.tsv")),
    STS_B("sts-b", "STS-B", List.of("score"), Metric.PEARSON_AND_SPEARMAN,
            Split.standard("sentence1", "sentence2", "score", "STS-B.tsv")),
    QQP("qqp", "QQP", List.of("0", "1"), Metric.ACC_AND_F1,
            Split.standard("question1", "question2", "is_duplicate", "QQP.tsv")),
    MNLI("mnli", "MNLI", List.of("contradiction", "entailment", "neutral"), Metric.ACCURACY,
            List.of(Split.labelled("train", "train.tsv", "sentence1", "sentence2", "gold_label"),
                    Split.labelled("dev_matched", "dev_matched.tsv", "sentence1", "sentence2", "gold_label"),
                    Split.labelled("dev_mismatched", "dev_mismatched.tsv", "sentence1", "sentence2", "gold_label"),
                    Split.test("test_matched", "test_matched.tsv", "sentence1", "sentence2", "MNLI-m.tsv"),
                    Split.test("test_mismatched", "test_mismatched.tsv", "sentence1", "sentence2", "MNLI-mm.tsv"))),
    QNLI("qnli", "QNLI", List.of("entailment", "not_entailment"), Metric.ACCURACY,
            Split.standard("question", "sentence", "label", "QNLI.tsv")),
    RTE("rte", "RTE", List.of("entailment", "not_entailment"), Metric.ACCURACY,
            Split.standard("sentence1", "sentence2", "label", "RTE.tsv")),
    WNLI("wnli", "WNLI", List.of("0", "1"), Metric.ACCURACY,
            Split.standard("sentence1", "sentence2", "label", "WNLI.tsv")),
    /** The diagnostic set: test-only, predicted with the MNLI model, submitted as AX.tsv. */
    AX("ax", "diagnostic", List.of("contradiction", "entailment", "neutral"), Metric.MCC,
            List.of(Split.test("test", "diagnostic.tsv", "sentence1", "sentence2", "AX.tsv")));

    /** How GLUE scores a task; the combined value is what "best checkpoint" and the accuracy gate compare. */
    public enum Metric {
        ACCURACY("accuracy"), MCC("mcc"), ACC_AND_F1("acc_and_f1"), PEARSON_AND_SPEARMAN("pearson_and_spearman");

        private final String key;

        Metric(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /**
     * One file of a task. Either header-based ({@code textA}/{@code textB}/{@code label} name columns) or headerless
     * with fixed column positions; {@code submission} is the GLUE file name for test splits.
     */
    public record Split(String name, String file, boolean hasHeader, String textA, String textB, String label,
                        int textACol, int textBCol, int labelCol, int columns, String submission) {
        /**
         * The layout most tasks share: train.tsv and dev.tsv with headers naming the texts and the label, test.tsv
         * with the same texts and no label, predicted into {@code submission}.
         */
        static List<Split> standard(String a, String b, String label, String submission) {
            return List.of(labelled("train", "train.tsv", a, b, label), labelled("dev", "dev.tsv", a, b, label),
                    test("test", "test.tsv", a, b, submission));
        }

        static Split labelled(String name, String file, String a, String b, String label) {
            return new Split(name, file, true, a, b, label, -1, -1, -1, -1, null);
        }

        static Split test(String name, String file, String a, String b, String submission) {
            return new Split(name, file, true, a, b, null, -1, -1, -1, -1, submission);
        }

        static Split headerless(String name, String file, int a, int b, int label, int columns) {
            return new Split(name, file, false, null, null, null, a, b, label, columns, null);
        }

        public boolean hasLabels() {
            return label != null || labelCol >= 0;
        }

        public boolean isPair() {
            return textB != null || textBCol >= 0;
        }
    }

    private final String id;
    private final String dirName;
    private final List<String> labels;
    private final Metric metric;
    private final List<Split> splits;

    GlueTask(String id, String dirName, List<String> labels, Metric metric, List<Split> splits) {
        this.id = id;
        this.dirName = dirName;
        this.labels = labels;
        this.metric = metric;
        this.splits = splits;
    }

    /** The command-line name: cola, sst-2, mrpc, sts-b, qqp, mnli, qnli, rte, wnli, ax. */
    public String id() {
        return id;
    }

    /** The folder under the GLUE data dir (CoLA, SST-2, …, diagnostic for AX). */
    public String dirName() {
        return dirName;
    }

    /** The name GLUE uses for the task (AX for the diagnostic set). */
    public String glueName() {
        return this == AX ? "AX" : dirName;
    }

    /** The label values GLUE's files and submissions use, by class index ("0"/"1" for the binary tasks). */
    public List<String> labels() {
        return labels;
    }

    /**
     * The class names a fine-tuned model's {@code id2label} carries, by the same index: where GLUE writes 0/1, the
     * names HF's GLUE loaders give them (so a served model answers "positive", not "1"); else GLUE's own values.
     * Submissions keep writing {@link #labels()}.
     */
    public List<String> labelNames() {
        return switch (this) {
            case COLA -> List.of("unacceptable", "acceptable");
            case SST_2 -> List.of("negative", "positive");
            case MRPC -> List.of("not_equivalent", "equivalent");
            case QQP -> List.of("not_duplicate", "duplicate");
            case WNLI -> List.of("not_entailment", "entailment");
            default -> labels;
        };
    }

    public boolean isRegression() {
        return this == STS_B;
    }

    public int numLabels() {
        return labels.size();
    }

    public Metric metric() {
        return metric;
    }

    public List<Split> splits() {
        return splits;
    }

    public Split split(String name) {
        return splits.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> new dev.convbert.core.InvalidInputException(
                "task " + id + " has no split \"" + name + "\"; expected one of "
                        + splits.stream().map(Split::name).toList()));
    }

    /** Dev splits used for evaluation (MNLI: matched and mismatched). */
    public List<Split> devSplits() {
        return splits.stream().filter(s -> s.name().startsWith("dev")).toList();
    }

    /** Test splits that go into a GLUE submission (MNLI: matched and mismatched). */
    public List<Split> testSplits() {
        return splits.stream().filter(s -> s.name().startsWith("test")).toList();
    }

    /** The task a model is trained on to predict this one (AX uses the MNLI model). */
    public GlueTask trainingTask() {
        return this == AX ? MNLI : this;
    }

    public static GlueTask fromId(String id) {
        String key = id.toLowerCase(Locale.ROOT).replace('_', '-');
        for (GlueTask t : values()) {
            if (t.id.equals(key) || t.glueName().toLowerCase(Locale.ROOT).equals(key)
                    || t.id.replace("-", "").equals(key.replace("-", ""))) {
                return t;
            }
        }
        throw new dev.convbert.core.InvalidInputException("unknown task \"" + id + "\"; expected one of "
                + Arrays.stream(values()).map(GlueTask::id).toList());
    }
}
