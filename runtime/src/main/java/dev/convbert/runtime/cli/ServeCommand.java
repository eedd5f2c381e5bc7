package dev.convbert.runtime.cli;

import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Vocab;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.core.predict.Predictor;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.score.ScoringException;
import dev.convbert.runtime.serve.PredictionServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code convbert serve}: the HTTP prediction server. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve an exported model over HTTP (127.0.0.1 by default) with dynamic micro-batching.",
                "POST /v1/predict {\"inputs\": [{\"text_a\": …, \"text_b\": …}]}; GET /health; GET /metrics.",
                "", "Example:", "  convbert serve --model export/sst2.onnx --port 8080"})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "An .onnx written by 'convbert export'.")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", defaultValue = "8080")
    int port;

    @Option(names = "--max-batch", defaultValue = "32", description = "Rows per forward pass (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "5", description = "How long a row waits for company (default ${DEFAULT-VALUE}).")
    long maxWaitMs;

    @Option(names = "--queue", defaultValue = "512", description = "Queued rows before 503 (default ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-bytes", defaultValue = "1048576")
    int maxBody;

    @Option(names = "--max-inputs", defaultValue = "64", description = "Inputs per request (default ${DEFAULT-VALUE}).")
    int maxInputs;

    @Option(names = "--max-text-chars", defaultValue = "10000")
    int maxChars;

    @Option(names = "--timeout-ms", defaultValue = "30000", description = "Default per-request timeout; requests may ask for less.")
    long timeoutMs;

    @CommandLine.Mixin
    ProviderOptions providerOptions = new ProviderOptions();

    @Option(names = "--allow-external-data",
            description = "Accept a model whose tensors live in other files, if they are inside its directory.")
    boolean allowExternalData;

    @Option(names = "--vocab")
    Path vocab;

    @Override
    public Integer call() throws Exception {
        ExecutionProvider ep = providerOptions.provider();
        try (OrtModel m = OrtModel.open(model, ep, null, allowExternalData)) {
            Predictor.requireClassificationHead(m, model, "serving");
            Path v = vocab != null ? vocab : m.vocab().orElseThrow(() -> new ScoringException(
                    model + ": no vocab.txt beside it; pass --vocab FILE"));
            Predictor.requireVocab(m, model, v);
            var options = new PredictionServer.Options(host, port, maxBatch, maxWaitMs, queue, maxBody, maxInputs, maxChars,
                    timeoutMs, Math.max(timeoutMs, 120_000), 128, PredictionServer.Options.defaults().httpThreads());
            CountDownLatch stop = new CountDownLatch(1);
            try (PredictionServer server = PredictionServer.start(m, new BertTokenizer(Vocab.read(v)), options)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    server.close();
                    stop.countDown();
                }));
                System.out.printf("serving %s on http://%s:%d (provider %s); POST /v1/predict, GET /health, GET /metrics%n",
                        model, host, server.port(), m.provider());
                stop.await();
            }
        }
        return ExitCodes.OK;
    }
}
