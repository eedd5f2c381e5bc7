package dev.convbert.runtime.score;

import ai.onnx.proto.OnnxMl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tensors whose bytes live outside the .onnx file ({@code data_location = EXTERNAL}). ONNX Runtime opens such paths
 * relative to the model, so a model from elsewhere could read any file the server can ({@code ../../etc/…}, an
 * absolute path, a symlink out of the directory). Our exports never use external data: any is refused unless allowed,
 * and then only files that resolve (after following links) inside the model's own directory.
 */
final class ExternalData {
    private ExternalData() {}

    /** Throws a {@link ScoringException} naming the tensor and its location when the model may not be loaded. */
    static void check(Path model, boolean allow) {
        OnnxMl.ModelProto proto;
        try (InputStream in = Files.newInputStream(model)) {
            proto = OnnxMl.ModelProto.parseFrom(in);
        } catch (IOException e) {
            throw new ScoringException(model + ": not a readable ONNX model (" + e.getMessage() + ")", e);
        }
        graph(model, proto.getGraph(), allow);
        for (OnnxMl.FunctionProto f : proto.getFunctionsList()) {
            for (OnnxMl.NodeProto n : f.getNodeList()) {
                node(model, n, allow);
            }
        }
    }

    private static void graph(Path model, OnnxMl.GraphProto g, boolean allow) {
        for (OnnxMl.TensorProto t : g.getInitializerList()) {
            tensor(model, t, allow);
        }
        for (OnnxMl.SparseTensorProto s : g.getSparseInitializerList()) {
            tensor(model, s.getValues(), allow);
            tensor(model, s.getIndices(), allow);
        }
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            node(model, n, allow);
        }
    }

    private static void node(Path model, OnnxMl.NodeProto n, boolean allow) {
        for (OnnxMl.AttributeProto a : n.getAttributeList()) {
            if (a.hasT()) {
                tensor(model, a.getT(), allow);
            }
            for (OnnxMl.TensorProto t : a.getTensorsList()) {
                tensor(model, t, allow);
            }
            if (a.hasG()) {
                graph(model, a.getG(), allow);
            }
            for (OnnxMl.GraphProto g : a.getGraphsList()) {
                graph(model, g, allow);
            }
        }
    }

    private static void tensor(Path model, OnnxMl.TensorProto t, boolean allow) {
        if (t.getDataLocation() != OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            return;
        }
        String location = t.getExternalDataList().stream().filter(e -> e.getKey().equals("location"))
                .map(OnnxMl.StringStringEntryProto::getValue).findFirst().orElse("");
        String what = model + ": tensor \"" + t.getName() + "\" keeps its data outside the model file (location \""
                + location + "\")";
        if (!allow) {
            throw new ScoringException(what + "; refused: 'convbert export' never writes external data. If you trust"
                    + " this model, rerun with --allow-external-data (files inside the model's directory only)");
        }
        Path dir;
        Path file;
        try {
            dir = model.toAbsolutePath().getParent().toRealPath();
            file = dir.resolve(location).toRealPath();
        } catch (IOException e) {
            throw new ScoringException(what + ", which cannot be read: " + e.getMessage(), e);
        }
        if (location.isEmpty() || Path.of(location).isAbsolute() || !file.startsWith(dir) || !Files.isRegularFile(file)) {
            throw new ScoringException(what + ", which resolves to " + file + ", outside " + dir
                    + "; refused even with --allow-external-data");
        }
    }
}
