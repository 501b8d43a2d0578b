package io.shale.storage.local;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Logs are for things a user must act on: a clean life of a store logs no WARN or ERROR. */
class QuietLogsTest {
    @TempDir
    Path tmp;

    @Test
    void shortLivedStoresOpenAndCloseWithoutWarnings() {
        List<String> warnings;
        try (CapturedLogs logs = new CapturedLogs()) {
            for (int i = 0; i < 5; i++) {
                Path dir = tmp.resolve("s" + i);
                LocalStorage.open(dir).close(); // closed while the WAL may still preallocate its segments
                try (LogStore store = LocalStorage.open(dir)) {
                    store.createTopic("t", 1);
                    store.append(TopicPartition.of("t", 0), List.of(SimpleRecord.of("k", "v"))).join();
                }
                try (LogStore store = LocalStorage.open(dir)) {
                    store.flush();
                }
                LocalStorage.readOnly(dir).open().close();
            }
            warnings = logs.atLeast(Level.WARN);
        }
        assertThat(warnings).isEmpty();
    }
}
