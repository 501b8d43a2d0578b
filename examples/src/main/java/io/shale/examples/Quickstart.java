package io.shale.examples;

import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.record.Header;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.LocalStorage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The quickstart: a store in a local directory (a file WAL plus a directory as the "bucket", no
 * servers), a topic with three partitions, durable appends, reads by offset and by timestamp,
 * and a reopen that finds everything again.
 *
 * <p>Run: {@code mvn -q -pl examples -am compile exec:java} (optionally
 * {@code -Dexec.args=/path/to/dir}; the default is {@code ./shale-data}).
 */
public final class Quickstart {
    private Quickstart() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "shale-data").toAbsolutePath();
        Files.createDirectories(dir);
        String topic = "quickstart-" + System.currentTimeMillis();
        System.out.println("Shale quickstart: store in " + dir);

        try (LogStore store = LocalStorage.builder(dir)
                .config(Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 500))
                .open()) {
            TopicDescription t = store.createTopic(topic, 3, Map.of("retention.ms", "86400000"));
            System.out.println("created topic " + t.name() + " with " + t.partitionCount() + " partitions");

            // Append: each call is one batch; the future completes once the batch is durable in the WAL.
            List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                TopicPartition tp = TopicPartition.of(topic, p);
                for (int i = 0; i < 3; i++) {
                    String value = "order-" + p + "-" + i;
                    acks.add(store.append(tp, List.of(new SimpleRecord(System.currentTimeMillis(),
                            buf("customer-" + i), buf(value), List.of(Header.of("source", "quickstart"))))));
                }
            }
            for (CompletableFuture<AppendResult> ack : acks) {
                ack.join();
            }
            System.out.println("appended " + acks.size() + " records durably");

            for (int p = 0; p < 3; p++) {
                TopicPartition tp = TopicPartition.of(topic, p);
                FetchResult f = store.read(tp, 0, 1 << 20);
                System.out.println("read " + tp + ": " + f.batches().size() + " batches, high watermark "
                        + f.highWatermark());
                for (Record r : f.records()) {
                    System.out.println("  offset " + r.offset() + "  key=" + str(r.key()) + "  value=" + str(r.value()));
                }
            }

            // Upload to the local "bucket" now (this also happens in the background).
            store.flush();
            System.out.println("flushed to the object store");
        }

        // Reopen: everything appended is still there, now read back from the objects.
        try (LogStore store = LocalStorage.builder(dir).open()) {
            TopicPartition tp = TopicPartition.of(topic, 1);
            System.out.println("reopened; " + tp + " has offsets [" + store.logStartOffset(tp) + ", "
                    + store.highWatermark(tp) + ")");
            for (Record r : store.read(tp, 0, 1 << 20).records()) {
                System.out.println("  offset " + r.offset() + "  value=" + str(r.value()));
            }
            long now = System.currentTimeMillis();
            System.out.println("first offset at or after an hour ago: "
                    + store.offsetForTimestamp(tp, now - 3_600_000).map(o -> Long.toString(o.offset())).orElse("none"));
        }
        System.out.println("done");
    }

    private static ByteBuffer buf(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String str(ByteBuffer b) {
        if (b == null) {
            return "null";
        }
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
