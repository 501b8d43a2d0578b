package io.shale.reliability.fencing;

import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.reliability.crash.CrashLog;
import io.shale.reliability.support.Ledger;
import io.shale.reliability.support.Producers;
import io.shale.reliability.support.Stores;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3StoreOptions;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One writer process of the fencing test: opens the shared store for writing, appends until it is
 * fenced or its time is up, and reports on stdout (flushed per line):
 *
 * <pre>
 * READY millis                          opened (wall clock): this writer claimed its epoch
 * A partition baseOffset lastOffset hash millis   an acknowledged append, and when (wall clock)
 * F kind count                          appends that failed, by kind (at the end)
 * DONE                                  closed
 * </pre>
 *
 * <p>Arguments: {@code wal bucket walDir producer seed partitions runMs}, where {@code wal} is
 * {@code file} (a file WAL in {@code walDir}, the bucket a local directory), {@code object} (the
 * object WAL in a local-directory bucket) or {@code s3} (the object WAL in an S3 bucket;
 * {@code bucket} is {@code endpoint,bucket,accessKey,secretKey}).
 */
public final class WriterChild {
    /** writer.lease.ms of both writers: with a file WAL, the old one acknowledges nothing later than this after the new one's claim. */
    static final long LEASE_MS = 2_000;

    private WriterChild() {
    }

    public static void main(String[] args) throws Exception {
        String walKind = args[0];
        String bucket = args[1];
        Path walDir = Path.of(args[2]);
        int producer = Integer.parseInt(args[3]);
        long seed = Long.parseLong(args[4]);
        int partitions = Integer.parseInt(args[5]);
        long runMs = Long.parseLong(args[6]);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.US_ASCII);

        ObjectStore objects;
        if (walKind.equals("s3")) {
            String[] f = bucket.split(",");
            objects = S3ObjectStore.create(S3StoreOptions.builder().endpoint(URI.create(f[0])).bucket(f[1])
                    .keyPrefix("fencing/").region("us-east-1").pathStyleAccess(true).allowInsecureHttp(true)
                    .staticCredentials(f[2], f[3]).build());
        } else {
            objects = LocalDirectoryObjectStore.open(Path.of(bucket));
        }
        WriteAheadLog wal = walKind.equals("file")
                ? FileWriteAheadLog.builder(walDir).segmentBytes(64 << 10).spareSegments(1).build()
                : ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(5)).flushBytes(64 << 10)
                        .dataObjects(walKind.equals("object-data")).build();
        LogStore store = LogStore.builder().objectStore(objects).wal(wal)
                .config(StoreConfig.of(Stores.busy()).with(StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS, 10_000)
                        .with(StoreConfig.WRITER_LEASE_MS, LEASE_MS))
                .open();
        long openedAt = System.currentTimeMillis();
        Stores.createTopic(store, CrashLog.TOPIC, partitions, CrashLog.topicConfig());
        emit(out, "READY " + openedAt);
        List<TopicPartition> tps = Stores.partitions(CrashLog.TOPIC, partitions);
        Producers p = new Producers(store, tps, 2, producer, seed, 200, 5, 8, new Ledger(),
                (tp, ids, r) -> emit(out, "A " + tp.partition() + " " + r.baseOffset() + " " + r.lastOffset() + " "
                        + Long.toHexString(CrashLog.hash(ids, 200)) + " " + System.currentTimeMillis()));
        p.start();
        long end = System.nanoTime() + runMs * 1_000_000;
        while (System.nanoTime() < end && !p.finished()) {
            Thread.sleep(10);
        }
        p.stop();
        for (var e : p.failures.entrySet()) {
            emit(out, "F " + e.getKey() + " " + e.getValue().get());
        }
        try {
            store.close();
        } catch (ShaleException e) {
            emit(out, "F " + ErrorKind.UNAVAILABLE + "-close 1");
        }
        emit(out, "DONE");
        System.exit(0);
    }

    private static void emit(PrintStream out, String line) {
        synchronized (out) {
            out.print(line);
            out.print('\n');
            out.flush();
        }
    }
}
