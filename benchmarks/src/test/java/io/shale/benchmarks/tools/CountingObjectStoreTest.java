package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.benchmarks.tools.CountingObjectStore.Area;
import io.shale.benchmarks.tools.CountingObjectStore.Counts;
import io.shale.benchmarks.tools.CountingObjectStore.Op;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.spi.Payload;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CountingObjectStoreTest {

    @Test
    void callsShouldBeCountedByOperationAndKeyArea(@TempDir Path dir) {
        try (CountingObjectStore store = new CountingObjectStore(LocalDirectoryObjectStore.open(dir))) {
            store.put("data/a", Payload.of(new byte[100]), null).join();
            assertThat(store.putIfAbsent("manifest/deltas/1", Payload.of(new byte[7]), "t1").join()).isTrue();
            assertThat(store.putIfAbsent("manifest/deltas/1", Payload.of(new byte[7]), "t2").join()).isFalse();
            assertThat(store.get("data/a", 10, 50).join().remaining()).isEqualTo(50);
            assertThatThrownBy(() -> store.get("wal/missing").join()).hasMessageContaining("wal/missing");
            store.head("data/a").join();
            store.list("manifest/", null, 10).join();
            store.delete(List.of("data/a", "manifest/deltas/1", "manifest/other")).join();

            Counts c = store.snapshot();
            assertThat(c.calls(Op.PUT, Area.DATA)).isEqualTo(1);
            assertThat(c.calls(Op.PUT_IF_ABSENT, Area.MANIFEST)).isEqualTo(2);
            assertThat(c.puts()).isEqualTo(3);
            assertThat(c.bytesPut(Area.DATA)).isEqualTo(100);
            assertThat(c.bytesPut(Area.MANIFEST)).isEqualTo(14);
            assertThat(c.calls(Op.GET, Area.DATA)).isEqualTo(1);
            assertThat(c.calls(Op.GET, Area.WAL)).isEqualTo(1);
            assertThat(c.bytesGot(Area.DATA)).isEqualTo(50);
            assertThat(c.bytesGot()).isEqualTo(50);
            assertThat(c.calls(Op.HEAD)).isEqualTo(1);
            assertThat(c.calls(Op.LIST, Area.MANIFEST)).isEqualTo(1);
            // one batched call with keys in two areas counts as a call in each
            assertThat(c.calls(Op.DELETE, Area.DATA)).isEqualTo(1);
            assertThat(c.calls(Op.DELETE, Area.MANIFEST)).isEqualTo(1);
            assertThat(c.deletedKeys(Area.MANIFEST)).isEqualTo(2);
            assertThat(c.deletedKeys()).isEqualTo(3);
            assertThat(c.failures()).containsExactly(Map.entry("GET NOT_FOUND", 1L));
            assertThat(store.putLatency(Area.MANIFEST).count()).isEqualTo(2);

            store.get("data/zzz").exceptionally(t -> null).join();
            Counts later = store.snapshot().minus(c);
            assertThat(later.calls(Op.GET)).isEqualTo(1);
            assertThat(later.puts()).isZero();
            assertThat(later.failuresText()).isEqualTo("GET NOT_FOUND 1");

            store.reset();
            assertThat(store.snapshot().calls(Op.GET)).isZero();
            assertThat(store.snapshot().failures()).isEmpty();
        }
    }

    @Test
    void aStoreShouldPutOneDataObjectPerUploadAndCommitEachInTheManifest(@TempDir Path dir) throws Exception {
        CountingObjectStore counting = new CountingObjectStore(LocalDirectoryObjectStore.open(dir.resolve("objects")));
        Counts afterOpen;
        try (LogStore store = LogStore.builder().objectStore(counting).wal(Backend.fileWal(dir.resolve("wal")))
                .config(Map.of(StoreConfig.COMPACTION_INTERVAL_MS, RequestCounts.COMPACTION_OFF_MS)).open()) {
            store.createTopic("t", 10);
            afterOpen = counting.snapshot();
            Traffic traffic = new Traffic(store, "t", 10, 16, 1024);
            for (int i = 0; i < 3; i++) {
                traffic.appendBytes(8, 40L * traffic.batchBytes());
                store.flush();
            }
        }
        Counts writes = counting.snapshot().minus(afterOpen);
        // three flushes of new data: three data objects, whatever the partition count, each committed
        assertThat(writes.puts(Area.DATA)).isEqualTo(3);
        assertThat(writes.puts(Area.MANIFEST)).isGreaterThanOrEqualTo(3);
        assertThat(writes.bytesPut(Area.DATA)).isGreaterThan(3 * 40L * 16 * 1024);
        assertThat(writes.puts(Area.WAL)).isZero();
    }
}
