package dev.convbert.core.glue;

/**
 * One row of a GLUE file. {@code index} is the test-set id for submissions (the row's index column, or its position);
 * {@code label} is the label string ({@code null} on test splits); {@code line} is the 1-based line in the file.
 */
public record GlueExample(String index, String textA, String textB, String label, int line) {

    /** The class index of {@code label} within {@code task.labels()}. */
    public int labelId(GlueTask task) {
        return task.labels().indexOf(label);
    }

    public float regressionTarget() {
        return Float.parseFloat(label);
    }
}
