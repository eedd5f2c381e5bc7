package dev.convbert.runtime.serve;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What serve, serve-load and page-check all tell the server about the export they serve. */
class ServerOptionsTest {
    @Test
    void servingAnExportNamesItAfterItsFileShowsItsCardAndCutsAtItsTrainedLength() {
        ServerOptions o = ServerOptions.defaults().withPassesAtOnce(2)
                .forModel(Path.of("export", "sst2.onnx"), Map.of("task", "sst-2"), 64);
        assertEquals("sst2", o.modelName());
        assertEquals(Map.of("task", "sst-2"), o.card());
        assertEquals(64, o.maxLength());
        assertEquals(2, o.passesAtOnce());
        assertEquals(ServerOptions.defaults().port(), o.port());
    }
}
