package io.shale.log.record;

import io.shale.log.AppendResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;

/**
 * The child-JVM half of {@link ZstdJniVersionsTest}: runs with some zstd-jni version on the
 * classpath in place of the one Maven resolves, exercises Shale's zstd codec and prints one line
 * per check, {@code name=outcome}, where the outcome is {@code ok}, a value, or the throwable
 * the check ended with ({@code ShaleException(KIND): message} for Shale's own). The parent JVM
 * decides which outcomes are right for the version; this class asserts nothing itself except
 * record equality, whose failure is printed like any other throwable.
 *
 * <p>Argument: a file holding a zstd batch that kafka-clients built from {@link #expectedRecords()}.
 */
final class ZstdJniProbe {
    private ZstdJniProbe() {
    }

    /** Random records (large ones included) with a key on every record, so a compacted topic takes them. */
    static List<SimpleRecord> expectedRecords() {
        List<SimpleRecord> random = Samples.randomRecords(new Random(917), 150);
        List<SimpleRecord> out = new ArrayList<>(random.size() + 1);
        for (int i = 0; i < random.size(); i++) {
            SimpleRecord r = random.get(i);
            ByteBuffer key = r.key() != null ? r.key() : Samples.utf8("key-" + i);
            out.add(SimpleRecord.of(r.timestamp(), Samples.toArray(key), Samples.toArray(r.value()),
                    r.headers().toArray(new Header[0])));
        }
        // an incompressible value of several hundred KiB: several input and output chunks per batch
        byte[] big = new byte[700 * 1024];
        new Random(918).nextBytes(big);
        out.add(SimpleRecord.of(out.get(out.size() - 1).timestamp(), "big".getBytes(), big));
        return out;
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        ByteBuffer kafkaBatch = ByteBuffer.wrap(Files.readAllBytes(Path.of(args[0])));
        List<SimpleRecord> expected = expectedRecords();

        check(out, "zstd-jni", ZstdJniProbe::zstdJniVersion);
        check(out, "available", () -> String.valueOf(CompressionType.ZSTD.isAvailable()));
        check(out, "kafka-batch-crc", () -> String.valueOf(RecordBatch.wrap(kafkaBatch.duplicate()).isValid()));
        check(out, "kafka-batch-heap", () -> decodes(kafkaBatch.duplicate(), expected));
        check(out, "kafka-batch-read-only-heap", () -> decodes(kafkaBatch.asReadOnlyBuffer(), expected));
        check(out, "kafka-batch-direct", () -> decodes(direct(kafkaBatch), expected));
        check(out, "kafka-batch-read-only-direct", () -> decodes(direct(kafkaBatch).asReadOnlyBuffer(), expected));
        check(out, "kafka-batch-concatenated-frames", () -> {
            // the same records section twice in a row: two frames, records listed twice
            byte[] section = section(kafkaBatch);
            List<SimpleRecord> twice = new ArrayList<>(expected);
            twice.addAll(expected);
            ByteBuffer b = RawBatches.batch(CompressionType.ZSTD.id, twice.size(), RawBatches.concat(section, section));
            // record timestamps are deltas from the base timestamp Kafka wrote
            long baseTimestamp = RecordBatch.wrap(kafkaBatch.duplicate()).baseTimestamp();
            b.putLong(RecordBatchLayout.BASE_TIMESTAMP_OFFSET, baseTimestamp);
            RawBatches.fixCrc(b);
            return decodes(b, twice);
        });
        check(out, "kafka-batch-truncated", () -> {
            byte[] section = section(kafkaBatch);
            ByteBuffer cut = RawBatches.batch(CompressionType.ZSTD.id, expected.size(),
                    Arrays.copyOf(section, section.length - 9));
            Samples.records(RecordBatch.wrap(cut));
            return "decoded";
        });
        check(out, "shale-round-trip", () -> decodes(Samples.build(CompressionType.ZSTD, expected), expected));
        check(out, "kafka-reads-shale", () -> kafkaReads(Samples.build(CompressionType.ZSTD, expected), expected));
        check(out, "kafka-builds-in-this-jvm", () -> decodes(
                KafkaInterop.kafkaBatch(KafkaInterop.Settings.plain(CompressionType.ZSTD), expected), expected));
        check(out, "compacted-append", () -> compactedAppend(kafkaBatch.duplicate()));
        out.flush();
    }

    /** The version in zstd-jni's manifest, read here independently of Shale's code. */
    private static String zstdJniVersion() throws Exception {
        Class<?> zstd = Class.forName("com.github.luben.zstd.Zstd");
        return zstd.getPackage().getImplementationVersion() + " from "
                + Path.of(zstd.getProtectionDomain().getCodeSource().getLocation().toURI()).getFileName();
    }

    private static void check(PrintStream out, String name, Callable<String> body) {
        String outcome;
        try {
            outcome = body.call();
        } catch (Throwable t) {
            outcome = describe(t);
            if (!(t instanceof ShaleException)) {
                System.err.println("check " + name + ":");
                t.printStackTrace();
            }
        }
        out.println(name + "=" + outcome.replace('\n', ' '));
    }

    static String describe(Throwable t) {
        if (t instanceof ShaleException) {
            return "ShaleException(" + ((ShaleException) t).kind() + "): " + t.getMessage();
        }
        return String.valueOf(t);
    }

    private static String decodes(ByteBuffer batch, List<SimpleRecord> expected) {
        RecordBatch b = RecordBatch.wrap(batch);
        assertSame(simple(Samples.records(b)), expected);
        // a second pass reuses a pooled decoder
        assertSame(simple(Samples.records(b)), expected);
        return "ok";
    }

    private static String kafkaReads(ByteBuffer batch, List<SimpleRecord> expected) {
        List<SimpleRecord> read = new ArrayList<>();
        for (MutableRecordBatch b : MemoryRecords.readableRecords(batch).batches()) {
            for (org.apache.kafka.common.record.internal.Record r : b) {
                org.apache.kafka.common.header.Header[] kh = r.headers();
                Header[] headers = new Header[kh.length];
                for (int i = 0; i < kh.length; i++) {
                    headers[i] = Header.of(kh[i].key(), kh[i].value());
                }
                read.add(SimpleRecord.of(r.timestamp(), Samples.toArray(r.key()), Samples.toArray(r.value()), headers));
            }
        }
        assertSame(read, expected);
        return "ok";
    }

    private static String compactedAppend(ByteBuffer batch) {
        try (LogStore store = LogStore.builder().objectStore(new InMemoryObjectStore()).wal(new InMemoryWal()).open()) {
            store.createTopic("compacted", 1, Map.of(TopicConfig.CLEANUP_POLICY, "compact"));
            CompletableFuture<AppendResult> f;
            try {
                f = store.appendBatch(new TopicPartition("compacted", 0), batch);
            } catch (Throwable t) {
                return "appendBatch threw " + describe(t);
            }
            try {
                AppendResult r = f.join();
                return "ok, base offset " + r.baseOffset();
            } catch (CompletionException e) {
                return "future failed with " + describe(e.getCause());
            }
        }
    }

    private static List<SimpleRecord> simple(List<Record> records) {
        List<SimpleRecord> out = new ArrayList<>(records.size());
        for (Record r : records) {
            out.add(SimpleRecord.of(r.timestamp(), Samples.toArray(r.key()), Samples.toArray(r.value()),
                    r.headers().toArray(new Header[0])));
        }
        return out;
    }

    private static void assertSame(List<SimpleRecord> actual, List<SimpleRecord> expected) {
        if (actual.size() != expected.size()) {
            throw new AssertionError(actual.size() + " records, expected " + expected.size());
        }
        for (int i = 0; i < expected.size(); i++) {
            SimpleRecord a = actual.get(i);
            SimpleRecord e = expected.get(i);
            boolean same = a.timestamp() == e.timestamp()
                    && Arrays.equals(Samples.toArray(a.key()), Samples.toArray(e.key()))
                    && Arrays.equals(Samples.toArray(a.value()), Samples.toArray(e.value()))
                    && a.headers().size() == e.headers().size();
            for (int h = 0; same && h < e.headers().size(); h++) {
                same = Objects.equals(a.headers().get(h).key(), e.headers().get(h).key())
                        && Arrays.equals(a.headers().get(h).valueBytes(), e.headers().get(h).valueBytes());
            }
            if (!same) {
                throw new AssertionError("record " + i + " differs from the one written");
            }
        }
    }

    private static ByteBuffer direct(ByteBuffer heap) {
        ByteBuffer d = ByteBuffer.allocateDirect(heap.remaining());
        d.put(heap.duplicate()).flip();
        return d;
    }

    private static byte[] section(ByteBuffer batch) {
        byte[] all = Samples.toArray(batch);
        return Arrays.copyOfRange(all, 61, all.length);
    }
}
