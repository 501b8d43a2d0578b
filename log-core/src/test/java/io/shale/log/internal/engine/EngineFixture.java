package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.MutableClock;
import io.shale.log.testing.SharedObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

abstract class EngineFixture {
    final MutableClock clock = new MutableClock(1_700_000_000_000L);
    final InMemoryObjectStore objects = new InMemoryObjectStore(clock);
    final InMemoryWal wal = new InMemoryWal();
    final List<LogStore> opened = new ArrayList<>();

    static final Map<String, Object> QUIET = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000,
            StoreConfig.OBJECT_DELETE_GRACE_MS, 3_600_000);

    @AfterEach
    void closeAll() {
        for (LogStore s : opened) {
            s.close();
        }
    }

    StoreEngine open() {
        return open(Map.of());
    }

    StoreEngine open(Map<String, ?> settings) {
        StoreConfig cfg = StoreConfig.of(QUIET).with(settings);
        StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), wal, clock, cfg);
        opened.add(s);
        return s;
    }

    StoreEngine openReadOnly() {
        StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), null, clock,
                StoreConfig.of(QUIET).with(StoreConfig.REFRESH_INTERVAL_MS, 3_600_000));
        opened.add(s);
        return s;
    }

    static SimpleRecord rec(String k, String v) {
        return SimpleRecord.of(k, v);
    }

    static String value(Record r) {
        ByteBuffer v = r.value();
        byte[] b = new byte[v.remaining()];
        v.duplicate().get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    static List<String> values(FetchResult f) {
        List<String> out = new ArrayList<>();
        for (Record r : f.records()) {
            out.add(value(r));
        }
        return out;
    }

    static List<String> readAll(LogStore s, TopicPartition tp) {
        List<String> out = new ArrayList<>();
        long offset = s.logStartOffset(tp);
        while (offset < s.highWatermark(tp)) {
            FetchResult f = s.read(tp, offset, 1 << 20);
            out.addAll(values(f));
            offset = f.nextOffset();
        }
        return out;
    }

    static AppendResult append(LogStore s, TopicPartition tp, String... vs) {
        List<SimpleRecord> rs = new ArrayList<>();
        for (String v : vs) {
            rs.add(rec("k", v));
        }
        return s.append(tp, rs).join();
    }

    static void assertKind(Runnable r, ErrorKind kind) {
        assertThatThrownBy(r::run).satisfies(t -> {
            ShaleException e = ShaleException.unwrap(t);
            assertThat(e).as("ShaleException behind %s", t).isNotNull();
            assertThat(e.kind()).isEqualTo(kind);
        });
    }

    long dataObjects() {
        return objects.keys().stream().filter(k -> k.startsWith("data/")).count();
    }
}
