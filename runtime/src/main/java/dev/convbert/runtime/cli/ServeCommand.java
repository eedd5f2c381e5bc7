package dev.convbert.runtime.cli;

import dev.convbert.core.cli.ExitCodes;
import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.core.cli.ModelOptions;
import dev.convbert.core.predict.ScoringModel;
import dev.convbert.runtime.score.OrtModel;
import dev.convbert.runtime.score.RunSettings;
import dev.convbert.runtime.serve.PredictionServer;
import dev.convbert.runtime.serve.ServerOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code convbert serve}: the HTTP prediction server. */
@Command(name = "serve", defaultValueProvider = ServeCommand.Defaults.class,
        description = "Serve an exported model over HTTP (127.0.0.1 by default) with dynamic micro-batching. POST "
                + "/v1/predict {\"inputs\": [{\"text_a\": …, \"text_b\": …} or {\"input_ids\": […]}]} -> logits, label, "
                + "probabilities; POST /v2/models/NAME/infer (Open Inference Protocol); GET /health; GET /metrics "
                + "(docs/SERVING.md).",
        footer = "  convbert serve --model export/sst2.onnx --port 8080")
public final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", description = "Address to listen on (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", description = "(default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--max-batch", description = "Rows per forward pass (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-wait-ms", description = "How long a row waits for company (default ${DEFAULT-VALUE}).")
    long maxWaitMs;

    @Option(names = "--queue", description = "Queued rows before 503 (default ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-bytes", description = "(default ${DEFAULT-VALUE})")
    int maxBody;

    @Option(names = "--max-inputs", description = "Inputs per request (default ${DEFAULT-VALUE}).")
    int maxInputs;

    @Option(names = "--max-text-chars", description = "(default ${DEFAULT-VALUE})")
    int maxChars;

    @Option(names = "--timeout-ms", description = "Default per-request timeout; requests may ask for less (default ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--max-connections", description = "Connections served at once; more are refused at once (default ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--workers", paramLabel = "N", description = "Micro-batches run at once, each on cores/N of ONNX Runtime's threads (default: what 'convbert "
            + "optimize' recorded in the export's card; else 2 on the CPU when it has two or more cores, 1 on a GPU): more "
            + "rows per second under load; an idle server answers as fast (docs/RESULTS.md).")
    Integer workers;

    /** Every default comes from {@link ServerOptions#defaults()}, so help and server agree. */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(CommandLine.Model.ArgSpec arg) {
            if (!(arg instanceof CommandLine.Model.OptionSpec o)) {
                return null;
            }
            ServerOptions d = ServerOptions.defaults();
            Object v = switch (o.longestName()) {
                case "--host" -> d.host();
                case "--port" -> d.port();
                case "--max-batch" -> d.maxBatch();
                case "--max-wait-ms" -> d.maxWaitMs();
                case "--queue" -> d.queueCapacity();
                case "--max-body-bytes" -> d.maxBodyBytes();
                case "--max-inputs" -> d.maxInputs();
                case "--max-text-chars" -> d.maxTextChars();
                case "--timeout-ms" -> d.defaultTimeoutMs();
                case "--max-connections" -> d.httpThreads();
                default -> null;
            };
            return v == null ? null : v.toString();
        }
    }

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    @CommandLine.Mixin
    ProviderOptions providerOptions = new ProviderOptions();

    @CommandLine.Mixin
    ExternalDataOption externalData = new ExternalDataOption();

    @Override
    public Integer call() throws Exception {
        ExecutionProvider ep = providerOptions.provider();
        Path model = modelOptions.model();
        RunSettings run = RunSettings.resolve(model, ep, workers, OrtModel.threads());
        int passes = run.workers();
        try (OrtModel m = OrtModel.open(model, ep, null, externalData.allowed, run.threadsPerPass())) {
            ScoringModel scoring = ScoringModel.classifier(m, modelOptions.spec(), "serving");
            int length = scoring.maxLength();
            var d = ServerOptions.defaults();
            var options = d.withHost(host).withPort(port).withBatching(maxBatch, maxWaitMs).withQueueCapacity(queue)
                    .withRequestLimits(maxBody, maxInputs, maxChars).withTimeouts(timeoutMs, d.maxTimeoutMs())
                    .withHttpThreads(maxConnections)
                    .withPassesAtOnce(passes)
                    .forModel(model, m.card(), length);
            CountDownLatch stop = new CountDownLatch(1);
            try (PredictionServer server = PredictionServer.start(m, scoring.tokenizer(), options)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    server.close();
                    stop.countDown();
                }));
                System.out.printf("serving %s on http://%s:%d (provider %s, %d micro-batch%s at once: %s; texts cut at %d tokens);"
                        + " POST /v1/predict, POST /v2/models/" + options.modelName() + "/infer (Open Inference Protocol),"
                        + " GET /health, GET /metrics%n",
                        model, host, server.port(), m.provider(), passes, passes == 1 ? "" : "es", run.source(), length);
                stop.await();
            }
        }
        return ExitCodes.OK;
    }
}
