package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer reads while a producer writes (kafka-clients against the broker in-process): every record
 * arrives exactly once, in order in its partition, and the end-to-end latency (the producer's send time,
 * carried in the record, to the consumer's poll returning it) is printed as p50/p99. Nothing here
 * asserts on time: the figures are for reading, and they depend on the machine.
 */
class ConsumeWhileProducingTest {
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 3_000;
    /** Pace of the producer: one record every 1 ms (about 1,000 records/s, 3 s in all). */
    private static final long SEND_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    @TempDir
    Path dir;
    BrokerFixture fx;

    @BeforeEach
    void start() {
        fx = new BrokerFixture(dir);
    }

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void aConsumerTailingAProducerGetsEveryRecordOnceInOrderAndPrintsEndToEndLatency() throws Exception {
        String topic = "tail";
        try (Admin admin = fx.admin()) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get(20, TimeUnit.SECONDS);
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition(topic, p));
        }

        ExecutorService consumerThread = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch positioned = new CountDownLatch(1);
            Future<List<Received>> consumed = consumerThread.submit(() -> {
                List<Received> out = new ArrayList<>(RECORDS);
                try (KafkaConsumer<String, String> consumer = fx.consumer()) {
                    consumer.assign(partitions);
                    consumer.seekToBeginning(partitions);
                    for (TopicPartition tp : partitions) {
                        consumer.position(tp, Duration.ofSeconds(20)); // resolve the positions before the producer starts
                    }
                    positioned.countDown();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (out.size() < RECORDS && System.nanoTime() < deadline) {
                        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                            out.add(new Received(r.partition(), r.offset(), r.key(), r.value(), System.nanoTime()));
                        }
                    }
                    // anything more (a duplicate) would come within one more poll
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                        out.add(new Received(r.partition(), r.offset(), r.key(), r.value(), System.nanoTime()));
                    }
                }
                return out;
            });
            assertThat(positioned.await(30, TimeUnit.SECONDS)).as("consumer positioned").isTrue();

            Properties extra = new Properties();
            extra.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            List<Future<RecordMetadata>> sent = new ArrayList<>(RECORDS);
            try (KafkaProducer<String, String> producer = fx.producer("all", extra)) {
                long next = System.nanoTime();
                for (int i = 0; i < RECORDS; i++) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    next += SEND_INTERVAL_NANOS;
                    // the send time (System.nanoTime of this JVM, which the consumer shares) travels in the value
                    sent.add(producer.send(new ProducerRecord<>(topic, i % PARTITIONS, Integer.toString(i),
                            System.nanoTime() + ":" + "x".repeat(100))));
                }
                for (int i = 0; i < RECORDS; i++) {
                    RecordMetadata md = sent.get(i).get(30, TimeUnit.SECONDS);
                    assertThat(md.offset()).as("offset of record %d", i).isEqualTo(i / PARTITIONS);
                }
            }

            List<Received> got = consumed.get(90, TimeUnit.SECONDS);
            // exactly once, in order per partition: partition p holds records p, p+3, p+6, ... at offsets 0, 1, 2, ...
            assertThat(got).as("records received").hasSize(RECORDS);
            Map<Integer, Integer> nextOffset = new HashMap<>();
            long[] latencyNanos = new long[RECORDS];
            for (Received r : got) {
                int expectedOffset = nextOffset.getOrDefault(r.partition, 0);
                assertThat(r.offset).as("offset in partition %d", r.partition).isEqualTo(expectedOffset);
                int seq = Integer.parseInt(r.key);
                assertThat(seq).as("record at %d/%d", r.partition, r.offset)
                        .isEqualTo(expectedOffset * PARTITIONS + r.partition);
                nextOffset.put(r.partition, expectedOffset + 1);
                long sentAt = Long.parseLong(r.value.substring(0, r.value.indexOf(':')));
                latencyNanos[seq] = r.receivedNanos - sentAt;
            }
            for (int p = 0; p < PARTITIONS; p++) {
                assertThat(nextOffset.get(p)).as("records in partition %d", p).isEqualTo(RECORDS / PARTITIONS);
            }

            Arrays.sort(latencyNanos);
            System.out.printf(Locale.ROOT,
                    "ConsumeWhileProducingTest: end-to-end latency (send with acks=all to the consumer's poll), %d records"
                            + " at ~%d records/s over %d partitions: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                    RECORDS, TimeUnit.SECONDS.toNanos(1) / SEND_INTERVAL_NANOS, PARTITIONS,
                    millis(percentile(latencyNanos, 50)), millis(percentile(latencyNanos, 99)),
                    millis(latencyNanos[RECORDS - 1]));
        } finally {
            consumerThread.shutdownNow();
            assertThat(consumerThread.awaitTermination(30, TimeUnit.SECONDS)).as("consumer thread ended").isTrue();
        }
    }

    /** Nearest-rank percentile of sorted values. */
    private static long percentile(long[] sorted, int pct) {
        int rank = (int) Math.ceil(pct / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    private record Received(int partition, long offset, String key, String value, long receivedNanos) {
    }
}
