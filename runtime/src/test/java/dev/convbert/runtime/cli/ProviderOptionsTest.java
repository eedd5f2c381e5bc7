package dev.convbert.runtime.cli;

import dev.convbert.runtime.score.ExecutionProvider;
import dev.convbert.runtime.score.ScoringException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProviderOptionsTest {
    @Test
    void optionsRoundTripThroughWorkerArguments() {
        ProviderOptions o = CommandLine.populateCommand(new ProviderOptions(), "--provider", "tensorrt", "--device-id", "1",
                "--trt-fp16", "--trt-cache", "/tmp/trt", "--trt-profile", "1x8:8x128:32x512");
        ExecutionProvider p = o.provider();
        assertEquals(new ExecutionProvider("tensorrt", 1, true, "/tmp/trt",
                new ExecutionProvider.TrtProfile(1, 8, 8, 128, 32, 512), false), p);
        assertEquals(p, CommandLine.populateCommand(new ProviderOptions(), ProviderOptions.args(p).toArray(String[]::new)).provider());
        ExecutionProvider fp16 = CommandLine.populateCommand(new ProviderOptions(), "--provider", "tensorrt").provider().withTrtFp16();
        assertEquals(fp16, CommandLine.populateCommand(new ProviderOptions(), ProviderOptions.args(fp16).toArray(String[]::new)).provider());
        assertEquals("input_ids:8x128,attention_mask:8x128,token_type_ids:8x128", p.trtProfile().shapes(8, 128));
    }

    @Test
    void badProfilesAndProvidersAreRefusedWithTheExpectedForm() {
        for (String bad : List.of("1x8:8x128", "1x8:8x128:4x512", "ax8:8x128:32x512", "0x8:8x128:32x512")) {
            var e = assertThrows(ScoringException.class, () -> ProviderOptions.profile(bad));
            assertTrue(e.getMessage().contains("--trt-profile \"" + bad + "\""), e.getMessage());
        }
        var e = assertThrows(ScoringException.class, () -> CommandLine.populateCommand(new ProviderOptions(), "--provider", "rocm").provider());
        assertTrue(e.getMessage().contains("expected cpu, cuda or tensorrt"), e.getMessage());
    }
}
