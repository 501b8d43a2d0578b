package io.shale.catalog.postgres;

import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A cluster node in a child JVM for {@link ObjectWalClusterTakeoverTest}: opens node {@code args[3]}
 * (object WAL under {@code wal/<id>/}, no periodic upload) on the bucket {@code args[2]} and the
 * catalog {@code args[0]} schema {@code args[1]}, claims partition 0 of topic "events", appends
 * records one at a time and prints {@code ACKED <offset>=<value>} for each acknowledged one, until
 * it is killed.
 */
public final class ObjectWalNodeProcess {
    private ObjectWalNodeProcess() {
    }

    public static void main(String[] args) throws Exception {
        PostgresClusterNode handle = PostgresCatalog.clusterNode(PostgresCatalogOptions.builder(args[0]).user("postgres")
                .schema(args[1]).nodeId(args[3]).build(), ObjectWalClusterTakeoverTest.LEASE);
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(Path.of(args[2])))
                .wal(ObjectWriteAheadLog.builder().keyPrefix("wal/" + args[3] + "/").flushInterval(Duration.ofMillis(2))
                        .build())
                .catalog(handle)
                .config(Map.of("upload.interval.ms", 600_000, "upload.bytes", 64 << 20))
                .open();
        TopicPartition tp = new TopicPartition(ClusterStoreTest.TOPIC, 0);
        handle.claim(List.of(tp));
        for (int i = 0; ; i++) {
            String v = "child-" + i;
            long offset = store.append(tp, List.of(SimpleRecord.of(null, v.getBytes(StandardCharsets.UTF_8))))
                    .get(30, TimeUnit.SECONDS).baseOffset();
            System.out.println("ACKED " + offset + "=" + v);
            System.out.flush();
            if (i == 20) {
                store.flush(); // some committed, the rest only in the WAL
            }
        }
    }
}
