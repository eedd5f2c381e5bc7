package dev.convbert.benchmarks;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.convbert.core.cli.ExitCodes;
import dev.convbert.core.glue.GlueExample;
import dev.convbert.core.glue.GlueReader;
import dev.convbert.core.glue.GlueTask;
import dev.convbert.core.tokenize.BertTokenizer;
import dev.convbert.core.tokenize.Encoding;
import dev.convbert.core.tokenize.HfTokenizerJson;
import dev.convbert.core.tokenize.Vocab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code convbert benchmark-tokenizer}: our WordPiece against HuggingFace's Rust tokenizer (DJL binding) — id-for-id
 * agreement on every GLUE split present, and single-thread tokens/s on SST-2 train, measured in one run.
 */
@Command(name = "benchmark-tokenizer",
        description = "Compare our tokenizer with HuggingFace's on a GLUE directory: agreement and tokens/s.",
        footer = "  convbert benchmark-tokenizer --data-dir $GLUE_DIR --vocab vocab.txt --output tok.json")
public final class TokenizerBenchmark implements Callable<Integer> {
    @Option(names = "--data-dir", required = true, description = "GLUE directory (SST-2/train.tsv is timed).")
    Path dataDir;

    @Option(names = "--vocab", required = true, description = "BERT uncased vocab.txt.")
    Path vocab;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed passes over SST-2 train (default ${DEFAULT-VALUE}).")
    int repeats;

    @picocli.CommandLine.Mixin
    ResultsOutput output = new ResultsOutput();

    @Override
    public Integer call() throws Exception {
        BertTokenizer ours = new BertTokenizer(Vocab.read(vocab));
        Path json = Files.createTempFile("tokenizer", ".json");
        Files.writeString(json, HfTokenizerJson.forVocab(vocab));
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode result = mapper.createObjectNode();
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "true",
                "truncation", "false", "padding", "false", "modelMaxLength", "1000000"))) {
            long compared = 0, mismatched = 0;
            List<String> examples = new ArrayList<>();
            for (GlueTask task : GlueTask.values()) {
                for (GlueTask.Split split : task.splits()) {
                    Path file = GlueReader.file(dataDir, task, split.name());
                    if (!Files.isRegularFile(file)) {
                        continue;
                    }
                    for (GlueExample e : GlueReader.read(dataDir, task, split.name())) {
                        int[] a = ours.encode(e.textA(), e.textB(), Integer.MAX_VALUE).inputIds();
                        long[] b = e.textB() == null ? hf.encode(e.textA()).getIds() : hf.encode(e.textA(), e.textB()).getIds();
                        compared++;
                        if (!Arrays.equals(Arrays.stream(a).asLongStream().toArray(), b)) {
                            mismatched++;
                            if (examples.size() < 10) {
                                examples.add(task.glueName() + " " + split.name() + " line " + e.line());
                            }
                        }
                    }
                }
            }
            result.put("examples_compared", compared);
            result.put("examples_mismatched", mismatched);
            result.putPOJO("mismatch_examples", examples);
            System.out.printf("agreement: %d of %d examples id-for-id (%d differ)%n", compared - mismatched, compared, mismatched);
            examples.forEach(x -> System.out.println("  differs: " + x));

            // DJL's BertFullTokenizer, the other candidate: word pieces only (no pair encoding), compared on text_a
            ai.djl.modality.nlp.DefaultVocabulary djlVocab = ai.djl.modality.nlp.DefaultVocabulary.builder()
                    .addFromTextFile(vocab).optUnknownToken("[UNK]").build();
            ai.djl.modality.nlp.bert.BertFullTokenizer djl = new ai.djl.modality.nlp.bert.BertFullTokenizer(djlVocab, true);
            long djlCompared = 0, djlMismatched = 0;
            for (GlueTask task : GlueTask.values()) {
                for (GlueTask.Split split : task.splits()) {
                    if (!Files.isRegularFile(GlueReader.file(dataDir, task, split.name()))) {
                        continue;
                    }
                    for (GlueExample e : GlueReader.read(dataDir, task, split.name())) {
                        djlCompared++;
                        if (!djl.tokenize(e.textA()).equals(ours.tokenize(e.textA()))) {
                            djlMismatched++;
                        }
                    }
                }
            }
            result.put("djl_bert_full_tokenizer_compared", djlCompared);
            result.put("djl_bert_full_tokenizer_mismatched", djlMismatched);
            System.out.printf("DJL BertFullTokenizer vs ours (text_a word pieces): %d of %d differ%n", djlMismatched, djlCompared);

            List<String> sst = GlueReader.read(dataDir, GlueTask.SST_2, "train").stream().map(GlueExample::textA).toList();
            long tokens = 0;
            for (String s : sst) {
                tokens += ours.encode(s, Integer.MAX_VALUE).length();
            }
            double[] oursRate = new double[repeats];
            double[] hfRate = new double[repeats];
            double[] djlRate = new double[repeats];
            timeOurs(ours, sst); // warm-up
            timeHf(hf, sst);
            timeDjl(djl, sst);
            for (int r = 0; r < repeats; r++) {      // interleaved, so all see the same machine load
                oursRate[r] = tokens / timeOurs(ours, sst);
                hfRate[r] = tokens / timeHf(hf, sst);
                djlRate[r] = tokens / timeDjl(djl, sst);
            }
            Arrays.sort(oursRate);
            Arrays.sort(hfRate);
            Arrays.sort(djlRate);
            result.put("djl_tokens_per_s_median", djlRate[repeats / 2]);
            System.out.printf("DJL BertFullTokenizer: median %.0f tokens/s (word pieces only; [CLS]/[SEP] counted)%n", djlRate[repeats / 2]);
            result.put("sst2_train_sentences", sst.size());
            result.put("sst2_train_tokens", tokens);
            result.put("repeats", repeats);
            result.put("ours_tokens_per_s_median", oursRate[repeats / 2]);
            result.put("ours_tokens_per_s_max", oursRate[repeats - 1]);
            result.put("hf_tokens_per_s_median", hfRate[repeats / 2]);
            result.put("hf_tokens_per_s_max", hfRate[repeats - 1]);
            result.put("ours_over_hf_median", oursRate[repeats / 2] / hfRate[repeats / 2]);
            System.out.printf("SST-2 train: %d sentences, %d tokens (with [CLS]/[SEP])%n", sst.size(), tokens);
            System.out.printf("ours (Java):        median %.0f tokens/s, best %.0f%n", oursRate[repeats / 2], oursRate[repeats - 1]);
            System.out.printf("HF Rust (via DJL):  median %.0f tokens/s, best %.0f%n", hfRate[repeats / 2], hfRate[repeats - 1]);
            System.out.printf("ratio ours/HF (median): %.2f%n", oursRate[repeats / 2] / hfRate[repeats / 2]);
        } finally {
            Files.deleteIfExists(json);
        }
        output.write(result);
        return ExitCodes.OK;
    }

    private static double timeOurs(BertTokenizer t, List<String> texts) {
        long start = System.nanoTime();
        long sink = 0;
        for (String s : texts) {
            Encoding e = t.encode(s, Integer.MAX_VALUE);
            sink += e.inputIds()[0];
        }
        if (sink == 42) {
            System.out.print("");
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static double timeDjl(ai.djl.modality.nlp.bert.BertFullTokenizer t, List<String> texts) {
        long start = System.nanoTime();
        long sink = 0;
        for (String s : texts) {
            sink += t.tokenize(s).size();
        }
        if (sink == 42) {
            System.out.print("");
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static double timeHf(HuggingFaceTokenizer t, List<String> texts) {
        long start = System.nanoTime();
        long sink = 0;
        for (String s : texts) {
            sink += t.encode(s).getIds()[0];
        }
        if (sink == 42) {
            System.out.print("");
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
