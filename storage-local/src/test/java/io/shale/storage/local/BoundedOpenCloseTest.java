package io.shale.storage.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.SwitchableObjectStore.Mode;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open and close keep their deadlines when the object store is unreachable, release everything,
 * complete every future and lose nothing acknowledged. The bounds asserted are loose (far below
 * the 60 s retry deadline that used to hold close and open up), not performance figures.
 */
class BoundedOpenCloseTest {
    /** Far below object.store.retry.deadline.ms (60 s), far above a close that keeps its 1 s timeout. */
    private static final long LOOSE_BOUND_MS = 30_000;
    private static final TopicPartition TP = TopicPartition.of("orders", 0);

    @TempDir
    Path dir;

    private SwitchableObjectStore objects() {
        return new SwitchableObjectStore(LocalDirectoryObjectStore.open(dir.resolve(LocalStorage.OBJECTS_DIR)));
    }

    private LogStore open(SwitchableObjectStore objects, Map<String, ?> config) {
        return LogStore.builder()
                .objectStore(objects)
                .wal(FileWriteAheadLog.builder(dir.resolve(LocalStorage.WAL_DIR)).build())
                .config(Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000, StoreConfig.UPLOAD_BYTES, 1 << 30))
                .config(config)
                .open();
    }

    @Test
    void closeWithAHangingObjectStoreKeepsItsTimeoutReleasesEverythingAndLosesNothingAcknowledged() throws Exception {
        SwitchableObjectStore objects = objects();
        LogStore store = open(objects, Map.of());
        store.createTopic(TP.topic(), 2);
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String v = "order-" + i;
            store.append(TP, List.of(SimpleRecord.of("k" + i, v))).join();
            acknowledged.add(v);
        }
        objects.mode(Mode.HANG); // from here every object-store request hangs, as behind a black hole
        CompletableFuture<FetchResult> poll = store.poll(TopicPartition.of(TP.topic(), 1), 0, 1 << 20,
                Duration.ofMinutes(10));
        CompletableFuture<Void> flush = CompletableFuture.runAsync(() -> store.flush(Duration.ofMinutes(10)));
        while (objects.refused.get() == 0) {
            Thread.sleep(5); // the flush's upload reached the store
        }

        long t0 = System.nanoTime();
        store.close(Duration.ofSeconds(1));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(tookMs).as("close(1 s) returned instead of waiting out the 60 s retry deadline")
                .isLessThan(LOOSE_BOUND_MS);
        // every outstanding future completed
        assertThat(poll).isCompletedExceptionally();
        assertThat(ShaleException.unwrap(failure(poll)).kind()).isEqualTo(ErrorKind.CLOSED);
        Throwable flushFailure = failure(flush.orTimeout(LOOSE_BOUND_MS, TimeUnit.MILLISECONDS));
        assertThat(ShaleException.unwrap(flushFailure).kind()).isIn(ErrorKind.CLOSED, ErrorKind.UNAVAILABLE);
        assertThatThrownBy(() -> store.append(TP, List.of(SimpleRecord.of("k", "late"))).join())
                .satisfies(t -> assertThat(ShaleException.unwrap(t).kind()).isEqualTo(ErrorKind.CLOSED));
        // threads released
        assertThat(awaitNoThreads("shale-")).as("store threads still alive after close").isEmpty();

        // the WAL's lock was released and every acknowledged record is replayed from the WAL
        try (LogStore reopened = open(objects(), Map.of())) {
            assertThat(values(reopened, TP)).containsExactlyElementsOf(acknowledged);
            reopened.flush();
        }
        try (LogStore again = LocalStorage.open(dir)) {
            assertThat(values(again, TP)).containsExactlyElementsOf(acknowledged);
        }
    }

    @Test
    void closeWithAFailingObjectStoreLogsWhatItLeavesBehind() {
        SwitchableObjectStore objects = objects();
        LogStore store = open(objects, Map.of(StoreConfig.CLOSE_TIMEOUT_MS, 1_000));
        store.createTopic(TP.topic(), 1);
        AppendResult r = store.append(TP, List.of(SimpleRecord.of("k", "v"))).join();
        objects.mode(Mode.FAIL);
        List<String> warnings;
        long t0 = System.nanoTime();
        try (CapturedLogs logs = new CapturedLogs()) {
            store.close(); // close.timeout.ms = 1000
            warnings = logs.atLeast(Level.WARN);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(LOOSE_BOUND_MS);
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("stays in the WAL").contains("1000 ms"));
        try (LogStore reopened = open(objects(), Map.of())) {
            assertThat(reopened.highWatermark(TP)).isEqualTo(r.lastOffset() + 1);
            assertThat(values(reopened, TP)).containsExactly("v");
        }
    }

    @Test
    void openWithAnUnreachableObjectStoreFailsAtItsDeadlineAndLogsWhatItRetries() {
        try (LogStore first = open(objects(), Map.of())) {
            first.createTopic(TP.topic(), 1);
        }
        SwitchableObjectStore failing = objects();
        failing.mode(Mode.FAIL);
        List<String> info;
        long t0 = System.nanoTime();
        try (CapturedLogs logs = new CapturedLogs()) {
            assertThatThrownBy(() -> open(failing, Map.of(StoreConfig.OPEN_TIMEOUT_MS, 2_000)))
                    .isInstanceOfSatisfying(ShaleException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                        assertThat(e.getMessage()).contains(StoreConfig.OPEN_TIMEOUT_MS).contains("connection refused");
                    });
            info = logs.atLeast(Level.INFO);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(LOOSE_BOUND_MS);
        // what is being retried: operation, key, attempt and error
        assertThat(info).anySatisfy(l -> assertThat(l).contains("RetryingObjectStore").contains("retrying")
                .contains("attempt").contains("manifest/").contains("connection refused"));
        // rate-limited: one line per 5 s at most, not one per attempt
        assertThat(info.stream().filter(l -> l.contains("RetryingObjectStore")).count())
                .isLessThan(failing.refused.get());
        assertThat(awaitNoThreads("shale-")).isEmpty();
        // the WAL lock was released: a working open succeeds
        try (LogStore ok = open(objects(), Map.of())) {
            assertThat(ok.listTopics()).containsExactly(TP.topic());
        }
    }

    @Test
    void openWithAHangingObjectStoreFailsAtItsDeadline() {
        SwitchableObjectStore hanging = objects();
        hanging.mode(Mode.HANG);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> open(hanging, Map.of(StoreConfig.OPEN_TIMEOUT_MS, 1_000)))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains(StoreConfig.OPEN_TIMEOUT_MS);
                });
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(LOOSE_BOUND_MS);
        try (LogStore ok = open(objects(), Map.of())) {
            assertThat(ok.listTopics()).isEmpty();
        }
    }

    static List<String> values(LogStore store, TopicPartition tp) {
        List<String> out = new ArrayList<>();
        long offset = store.logStartOffset(tp);
        while (offset < store.highWatermark(tp)) {
            FetchResult f = store.read(tp, offset, 1 << 20);
            f.records().forEach(r -> out.add(StandardCharsets.UTF_8.decode(r.value()).toString()));
            offset = f.nextOffset();
        }
        return out;
    }

    private static Throwable failure(CompletableFuture<?> f) {
        try {
            f.join();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("expected " + f + " to fail");
    }

    /** Names of live threads starting with {@code prefix}, after giving them up to 10 s to end. */
    static Set<String> awaitNoThreads(String prefix) throws RuntimeException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Set<String> alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(Thread::isAlive).map(Thread::getName).filter(n -> n.startsWith(prefix))
                    .collect(Collectors.toSet());
            if (alive.isEmpty() || System.nanoTime() > deadline) {
                return alive;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return alive;
            }
        }
    }
}
