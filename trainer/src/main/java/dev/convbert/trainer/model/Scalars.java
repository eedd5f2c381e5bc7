package dev.convbert.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * Scalar operands that autograd may keep. DJL's {@code NDArray.div(Number)} (likewise {@code mul}, {@code maximum}, …
 * with a Number) wraps the number in an array over a fresh direct buffer, runs the op and closes the wrapper at once.
 * PyTorch's autograd keeps that tensor for the backward pass (a quotient's and a product's gradients need the other
 * operand), but the JVM frees the buffer at its next garbage collection — the backward pass then reads freed memory.
 * That was the rare NaN/infinite gradient with a finite loss (ScalarOperandTest shows it). A scalar made here belongs to
 * the operand's manager, so it lives until that manager closes, after the backward pass.
 */
public final class Scalars {
    private Scalars() {}

    /** {@code value} as a 0-d array of x's type, on x's device, owned by x's manager. */
    public static NDArray like(NDArray x, double value) {
        return x.getManager().create((float) value).toType(x.getDataType(), false);
    }
}
