package io.shale.benchmarks.peers;

import io.shale.benchmarks.Workload;
import java.io.File;
import java.io.IOException;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.server.util.Scheduler;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.apache.kafka.storage.internals.log.LogDirFailureChannel;
import org.apache.kafka.storage.internals.log.ProducerStateManagerConfig;
import org.apache.kafka.storage.internals.log.UnifiedLog;
import org.apache.kafka.storage.log.metrics.BrokerTopicStats;

/**
 * Creates Kafka's {@code UnifiedLog} standalone, without a broker, with the arguments Kafka's own
 * {@code TestLinearWriteSpeed} passes (Kafka 4.4 signatures).
 *
 * <p>Retention keeps the disk bounded: segments stay at Kafka's default 1 GiB, {@code
 * retention.bytes} is 2 GiB and deleted segments are removed after 1 s; a benchmark that writes
 * for long runs {@link #enforceRetention} on Kafka's scheduler, as a broker's LogManager does.
 */
final class KafkaLogs {
    /** Kafka's transaction-coordinator defaults (TransactionLogConfig is not on this classpath). */
    private static final int PRODUCER_ID_EXPIRATION_MS = 86_400_000;
    private static final int PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS = 600_000;
    private static final int MAX_TRANSACTION_TIMEOUT_MS = 5 * 60 * 1000;
    static final long RETENTION_BYTES = 2L << 30;

    private KafkaLogs() {
    }

    static LogConfig config() {
        Properties props = new Properties();
        props.put(TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(RETENTION_BYTES));
        props.put(TopicConfig.RETENTION_MS_CONFIG, "-1");
        props.put(TopicConfig.FILE_DELETE_DELAY_MS_CONFIG, "1000");
        return new LogConfig(props);
    }

    /** A log in {@code dir}, which must be named like a partition ({@code topic-0}). */
    static UnifiedLog create(File dir, LogConfig config, Scheduler scheduler) throws IOException {
        return UnifiedLog.create(
                dir,
                config,
                0L,
                0L,
                scheduler,
                new BrokerTopicStats(),
                Time.SYSTEM,
                MAX_TRANSACTION_TIMEOUT_MS,
                new ProducerStateManagerConfig(PRODUCER_ID_EXPIRATION_MS, false),
                PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS,
                new LogDirFailureChannel(10),
                true,
                Optional.empty());
    }

    /** One uncompressed v2 batch of {@code records} records with {@code recordBytes}-byte values and no key. */
    static MemoryRecords batch(int records, int recordBytes) {
        long now = System.currentTimeMillis();
        SimpleRecord[] simple = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            simple[i] = new SimpleRecord(now, null, Workload.randomBytes(recordBytes, i));
        }
        return MemoryRecords.withRecords(Compression.NONE, simple);
    }

    /** Moves the high watermark to the log end and deletes segments beyond retention. */
    static void enforceRetention(UnifiedLog log) {
        try {
            log.updateHighWatermark(log.logEndOffset());
            log.deleteOldSegments();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("Kafka retention failed in " + log.dir(), e);
        }
    }
}
