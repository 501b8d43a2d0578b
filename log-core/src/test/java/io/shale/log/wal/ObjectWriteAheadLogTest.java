package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.awaitTrue;
import static io.shale.log.wal.WalTesting.expected;
import static io.shale.log.wal.WalTesting.manualFlush;
import static io.shale.log.wal.WalTesting.replayAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.wal.TestWalContext.FenceMode;
import io.shale.log.wal.WalTesting.Replayed;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ObjectWriteAheadLogTest {
    private static final long EPOCH = 5;
    private static final long BASE = EPOCH << ObjectWriteAheadLog.EPOCH_SHIFT;

    private final ScriptedObjectStore store = new ScriptedObjectStore();
    private final TestWalContext ctx = new TestWalContext(EPOCH, store);
    private final List<ObjectWriteAheadLog> wals = new ArrayList<>();

    @AfterEach
    void tearDown() {
        store.holdPuts(false);
        while (store.releaseOldestPut()) {
            // let held PUTs finish so that close does not wait
        }
        ctx.fenceMode(FenceMode.OK);
        ctx.heldChecks.forEach(f -> f.complete(null));
        wals.forEach(ObjectWriteAheadLog::close);
        ctx.close();
    }

    private ObjectWriteAheadLog open(ObjectWriteAheadLog.Builder builder) {
        ObjectWriteAheadLog wal = builder.build();
        wals.add(wal);
        wal.open(ctx);
        wal.replay((s, i, o, p) -> {
        });
        return wal;
    }

    private static RecordingEntry entry(int stream, long offset, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (stream * 31 + offset * 7 + i);
        }
        return new RecordingEntry(stream, offset, ByteBuffer.wrap(b));
    }

    @Test
    void appendShouldReturnIncreasingSequencesThatCarryTheWriterEpoch() {
        ObjectWriteAheadLog wal = open(manualFlush());
        assertThat(wal.nextSequence()).isEqualTo(BASE);
        long a = wal.append(entry(1, 0, 10));
        long b = wal.append(entry(2, 0, 10));
        long c = wal.append(entry(1, 1, 10));
        assertThat(List.of(a, b, c)).containsExactly(BASE, BASE + 1, BASE + 2);
        assertThat(a >>> ObjectWriteAheadLog.EPOCH_SHIFT).isEqualTo(EPOCH);
        assertThat(wal.nextSequence()).isEqualTo(BASE + 3);
    }

    @Test
    void objectShouldBeSealedAsSoonAsItHoldsFlushBytesAndTheRestWaitForTheNextFlush() {
        ObjectWriteAheadLog wal = open(manualFlush().flushBytes(1000));
        List<RecordingEntry> entries = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            RecordingEntry e = entry(i % 3, i, 300);
            entries.add(e);
            wal.append(e);
        }
        // Each object is sealed by the append that takes it to >= 1000 bytes: 40 + k*328 >= 1000 at k = 3.
        awaitTrue("three objects are written", () -> WalTesting.objectKeys(store.mem.keys()).size() == 3);
        for (int i = 0; i < 9; i++) {
            assertThat(entries.get(i).awaitOutcome()).isNull();
        }
        assertThat(entries.get(9).outcome).isNotDone();
        for (String key : WalTesting.objectKeys(store.mem.keys())) {
            assertThat(store.mem.bytes(key).length).isGreaterThanOrEqualTo(1000).isLessThan(1000 + 328);
        }
        wal.flush().join();
        assertThat(entries.get(9).awaitOutcome()).isNull();
        assertThat(WalTesting.objectKeys(store.mem.keys())).hasSize(4);
        assertThat(wal.metrics().lastObjectEntries()).isEqualTo(1);
    }

    @Test
    void entriesShouldBeFlushedByTheTimerWithoutAnyExplicitFlush() {
        ObjectWriteAheadLog wal = open(ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(20)));
        RecordingEntry e = entry(1, 0, 100);
        wal.append(e);
        assertThat(e.awaitOutcome()).isNull();
        assertThat(WalTesting.objectKeys(store.mem.keys())).hasSize(1);
    }

    @Test
    void entryShouldBeAcknowledgedOnlyAfterItsPutAndThenTheFenceCheckSucceeded() {
        store.holdPuts(true);
        ctx.fenceMode(FenceMode.HOLD);
        ObjectWriteAheadLog wal = open(manualFlush());
        RecordingEntry e = entry(1, 0, 100);
        wal.append(e);
        wal.flush();
        awaitTrue("the PUT reaches the store", () -> store.heldPutCount() == 1);
        assertThat(e.outcome).isNotDone();
        assertThat(ctx.fenceChecks.get()).isZero();
        assertThat(WalTesting.objectKeys(store.mem.keys())).isEmpty();

        store.releaseOldestPut();
        awaitTrue("the fence check is asked", () -> ctx.heldChecks.size() == 1);
        assertThat(WalTesting.objectKeys(store.mem.keys())).hasSize(1);
        assertThat(e.outcome).isNotDone();

        ctx.heldChecks.poll().complete(null);
        assertThat(e.awaitOutcome()).isNull();
        assertThat(e.callbacks.get()).isEqualTo(1);
        assertThat(e.callbackThread).startsWith("shale-object-wal-");
    }

    @Test
    void fencedCheckShouldFailTheObjectsEntriesAndEveryLaterAppendFailsFast() {
        ctx.fenceMode(FenceMode.HOLD);
        ObjectWriteAheadLog wal = open(manualFlush());
        RecordingEntry first = entry(1, 0, 100);
        wal.append(first);
        wal.flush();
        awaitTrue("the fence check is asked", () -> ctx.heldChecks.size() == 1);
        RecordingEntry buffered = entry(1, 1, 100); // in the pending object when the fence is found
        wal.append(buffered);
        int putsBefore = store.putAttempts.get();

        ctx.heldChecks.poll().completeExceptionally(new ShaleException(ErrorKind.FENCED, "epoch 6 claimed the store"));

        ShaleException firstError = first.awaitOutcome();
        assertThat(firstError.kind()).isEqualTo(ErrorKind.FENCED);
        assertThat(firstError.getMessage()).contains("wal/00000000000000000005-");
        assertThat(buffered.awaitOutcome().kind()).isEqualTo(ErrorKind.FENCED);
        assertThatThrownBy(() -> wal.append(entry(1, 2, 10)))
                .isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.kind()).isEqualTo(ErrorKind.FENCED));
        wal.flush().join();
        assertThat(store.putAttempts.get()).isEqualTo(putsBefore); // the buffered entry was never sent
        assertThat(wal.metrics().fenced()).isTrue();
        assertThat(first.callbacks.get() + buffered.callbacks.get()).isEqualTo(2);
    }

    @Test
    void fenceCheckThatCannotDecideShouldFailTheEntriesUnavailableAndKeepTheWalWriting() {
        ctx.fenceMode(FenceMode.UNKNOWN);
        ObjectWriteAheadLog wal = open(manualFlush());
        RecordingEntry e = entry(1, 0, 10);
        wal.append(e);
        wal.flush().join();
        assertThat(e.awaitOutcome().kind()).isEqualTo(ErrorKind.UNAVAILABLE);

        ctx.fenceMode(FenceMode.OK);
        RecordingEntry later = entry(1, 1, 10);
        wal.append(later);
        wal.flush().join();
        assertThat(later.awaitOutcome()).isNull();
        assertThat(wal.metrics().fenced()).isFalse();
    }

    @Test
    void failedPutShouldFailItsEntriesUnavailableNamingTheKeyAndLaterAppendsShouldSucceed() {
        ObjectWriteAheadLog wal = open(manualFlush());
        store.failNextPuts(1, ObjectStoreException.Reason.PERMANENT);
        RecordingEntry lost = entry(1, 0, 10);
        long lostSeq = wal.append(lost);
        wal.flush().join();
        ShaleException error = lost.awaitOutcome();
        assertThat(error.kind()).isEqualTo(ErrorKind.STORAGE_ACCESS); // a PERMANENT refusal is not retriable
        assertThat(error.getMessage()).contains(WalObjectKey.of("wal/", EPOCH, lostSeq).key());

        RecordingEntry kept = entry(1, 1, 10);
        long keptSeq = wal.append(kept);
        wal.flush().join();
        assertThat(kept.awaitOutcome()).isNull();
        assertThat(wal.metrics().putFailures()).isEqualTo(1);
        wal.close();
        assertThat(replayAll(store, EPOCH, manualFlush())).containsExactly(expected(keptSeq, kept));
    }

    @Test
    void objectThatAlreadyExistsWithOurTokenShouldCountAsOurOwnAmbiguousSuccess() {
        store.createThenReportExisting(true);
        ObjectWriteAheadLog wal = open(manualFlush());
        RecordingEntry e = entry(1, 0, 10);
        wal.append(e);
        wal.flush().join();
        assertThat(e.awaitOutcome()).isNull();
        assertThat(wal.metrics().fenced()).isFalse();
    }

    @Test
    void objectThatAlreadyExistsWithAForeignTokenShouldFenceTheWal() {
        ObjectWriteAheadLog wal = open(manualFlush());
        // Another writer holding the same epoch writes the key this WAL is about to use.
        String key = WalObjectKey.of("wal/", EPOCH, wal.nextSequence()).key();
        store.mem.putIfAbsent(key, Payload.of(new byte[] {1, 2, 3}), "another-writer").join();
        RecordingEntry e = entry(1, 0, 10);
        wal.append(e);
        wal.flush().join();
        ShaleException error = e.awaitOutcome();
        assertThat(error.kind()).isEqualTo(ErrorKind.FENCED);
        assertThat(error.getMessage()).contains(key).contains("another-writer");
        assertThat(store.mem.bytes(key)).containsExactly(1, 2, 3);
        assertThatThrownBy(() -> wal.append(entry(1, 1, 10)))
                .isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.kind()).isEqualTo(ErrorKind.FENCED));
    }

    @Test
    void closeShouldMakeBufferedEntriesDurableAndLaterAppendsFailClosed() {
        ObjectWriteAheadLog wal = open(manualFlush());
        RecordingEntry a = entry(1, 0, 10);
        RecordingEntry b = entry(2, 0, 10);
        long sa = wal.append(a);
        long sb = wal.append(b);
        wal.close();
        assertThat(a.isDurable()).isTrue();
        assertThat(b.isDurable()).isTrue();
        assertThatThrownBy(() -> wal.append(entry(1, 1, 10)))
                .isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.kind()).isEqualTo(ErrorKind.CLOSED));
        wal.close(); // idempotent
        assertThat(replayAll(store, EPOCH, manualFlush())).containsExactly(expected(sa, a), expected(sb, b));
    }

    @Test
    void closeShouldFailEntriesStillInFlightAfterItsTimeoutAndNeverCallThemTwice() {
        store.holdPuts(true);
        ObjectWriteAheadLog wal = open(manualFlush().closeTimeout(Duration.ofMillis(50)));
        RecordingEntry e = entry(1, 0, 10);
        wal.append(e);
        wal.close();
        assertThat(e.awaitOutcome().kind()).isEqualTo(ErrorKind.CLOSED);
        store.releaseOldestPut(); // the PUT completes after close gave up
        assertThat(e.callbacks.get()).isEqualTo(1);
    }

    @Test
    void appendShouldBlockWhileTooManyBytesAreInFlightAndResumeWhenAPutCompletes() throws Exception {
        store.holdPuts(true);
        ObjectWriteAheadLog wal = open(manualFlush().flushBytes(1024).maxBufferedBytes(2048).chunkBytes(1024));
        wal.append(entry(1, 0, 1000)); // object 1: 2 chunks, sealed
        assertThat(wal.metrics().bufferedBytes()).isEqualTo(2048);
        AtomicReference<Long> seq = new AtomicReference<>();
        Thread appender = new Thread(() -> seq.set(wal.append(entry(1, 1, 1000))));
        appender.start();
        awaitTrue("the appender blocks", () -> appender.getState() == Thread.State.TIMED_WAITING);
        assertThat(seq.get()).isNull();

        awaitTrue("the first PUT is held", () -> store.heldPutCount() == 1);
        store.releaseOldestPut();
        appender.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(seq.get()).isEqualTo(BASE + 1);
    }

    @Test
    void appendShouldFailUnavailableWhenBackPressureOutlastsMaxBlockAndQueueNothing() {
        store.holdPuts(true);
        ObjectWriteAheadLog wal = open(manualFlush().flushBytes(1024).maxBufferedBytes(2048).chunkBytes(1024)
                .maxBlock(Duration.ofMillis(20)));
        RecordingEntry admitted = entry(1, 0, 1000);
        wal.append(admitted);
        RecordingEntry rejected = entry(1, 1, 1000);
        assertThatThrownBy(() -> wal.append(rejected))
                .isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.kind()).isEqualTo(ErrorKind.UNAVAILABLE));
        assertThat(wal.metrics().backPressureTimeouts()).isEqualTo(1);
        assertThat(wal.nextSequence()).isEqualTo(BASE + 1);

        store.holdPuts(false);
        awaitTrue("the first PUT is held", () -> store.heldPutCount() == 1);
        store.releaseOldestPut();
        assertThat(admitted.awaitOutcome()).isNull();
        assertThat(rejected.callbacks.get()).isZero();
    }

    @Test
    void entryLargerThanBufferLimitShouldStillBeAdmittedWhenNothingElseIsBuffered() {
        ObjectWriteAheadLog wal = open(manualFlush().flushBytes(1024).maxBufferedBytes(2048).chunkBytes(1024));
        RecordingEntry big = entry(1, 0, 10_000);
        long seq = wal.append(big);
        assertThat(big.awaitOutcome()).isNull();
        wal.close();
        assertThat(replayAll(store, EPOCH, manualFlush())).containsExactly(expected(seq, big));
    }

    @Test
    void payloadShouldBeCopiedSoTheCallerMayReuseItsBufferAfterAppendReturns() {
        ObjectWriteAheadLog wal = open(manualFlush());
        byte[] bytes = "original".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        RecordingEntry e = new RecordingEntry(1, 0, ByteBuffer.wrap(bytes));
        ByteBuffer payload = e.payload;
        int position = payload.position();
        long seq = wal.append(e);
        assertThat(payload.position()).isEqualTo(position);
        Replayed original = expected(seq, e);
        java.util.Arrays.fill(bytes, (byte) 'x');
        wal.close();
        assertThat(e.isDurable()).isTrue();
        assertThat(replayAll(store, EPOCH, manualFlush())).containsExactly(original);
    }

    @Test
    void entriesShouldRoundTripWhenTheySpanManySmallChunksAndComeFromDirectBuffers() {
        ObjectWriteAheadLog wal = open(manualFlush().flushBytes(5000).chunkBytes(64));
        List<Replayed> expected = new ArrayList<>();
        int[] sizes = {0, 1, 27, 63, 64, 65, 200, 4999, 12_345};
        for (int i = 0; i < sizes.length; i++) {
            RecordingEntry heap = entry(i, i * 10L, sizes[i]);
            ByteBuffer direct = ByteBuffer.allocateDirect(sizes[i] + 3);
            direct.put(new byte[] {9, 9, 9}).put(heap.payload.duplicate()).flip().position(3);
            RecordingEntry e = new RecordingEntry(i, i * 10L, direct.slice());
            expected.add(expected(wal.append(e), e));
            RecordingEntry f = entry(i, i * 10L + 1, sizes[sizes.length - 1 - i]);
            expected.add(expected(wal.append(f), f));
        }
        wal.close();
        assertThat(replayAll(store, EPOCH, manualFlush())).containsExactlyElementsOf(expected);
    }

    @Test
    void pooledChunksShouldBeReusedAcrossObjects() {
        ObjectWriteAheadLog wal = open(manualFlush().flushBytes(4096).chunkBytes(1024));
        for (int i = 0; i < 200; i++) {
            wal.append(entry(1, i, 3000));
            wal.flush().join();
        }
        // Each object needs 3 chunks; without reuse 200 objects would allocate 600.
        assertThat(wal.chunksAllocated()).isLessThanOrEqualTo(8);
        assertThat(wal.metrics().objectsWritten()).isEqualTo(200);
    }

    @Test
    void metricsShouldCountObjectsBytesEntriesAndPutLatency() {
        ObjectWriteAheadLog wal = open(manualFlush());
        wal.append(entry(1, 0, 100));
        wal.append(entry(2, 0, 50));
        wal.flush().join();
        wal.append(entry(1, 1, 10));
        wal.flush().join();
        ObjectWalMetrics m = wal.metrics();
        long storedBytes = WalTesting.objectKeys(store.mem.keys()).stream().mapToLong(k -> store.mem.bytes(k).length).sum();
        assertThat(m.objectsWritten()).isEqualTo(2);
        assertThat(m.bytesWritten()).isEqualTo(storedBytes);
        assertThat(m.entriesDurable()).isEqualTo(3);
        assertThat(m.entriesFailed()).isZero();
        assertThat(m.lastObjectBytes()).isEqualTo(store.mem.bytes(WalTesting.objectKeys(store.mem.keys()).get(1)).length);
        assertThat(m.putLatencyMaxMicros()).isGreaterThanOrEqualTo(m.putLatencyLastMicros());
        assertThat(m.putLatencyP99Micros()).isGreaterThanOrEqualTo(m.putLatencyP50Micros());
        assertThat(m.bufferedBytes()).isZero();
        assertThat(m.putsInFlight()).isZero();
    }

    @Test
    void objectsShouldBeWrittenUnderTheConfiguredPrefixAndReplayShouldReadOnlyThose() {
        ObjectWriteAheadLog other = open(manualFlush().keyPrefix("tenant-b/wal/"));
        RecordingEntry foreign = entry(9, 0, 10);
        other.append(foreign);
        other.close();
        ObjectWriteAheadLog wal = open(manualFlush().keyPrefix("tenant-a/wal/"));
        RecordingEntry mine = entry(1, 0, 10);
        long seq = wal.append(mine);
        wal.close();
        assertThat(WalTesting.objectKeys(store.mem.keys())).allMatch(k -> k.startsWith("tenant-a/wal/") || k.startsWith("tenant-b/wal/"))
                .hasSize(2);
        assertThat(replayAll(store, EPOCH, manualFlush().keyPrefix("tenant-a/wal/"))).containsExactly(expected(seq, mine));
    }

    /**
     * Durations too long for a long of milliseconds or nanoseconds: build threw ArithmeticException
     * (not a ShaleException) for each. A too-long flush interval is now refused by name; maxBlock and
     * closeTimeout are saturated (as good as no limit) and the WAL works.
     */
    @Test
    void durationsTooLongForALongShouldBeRefusedByNameOrSaturated() {
        Duration forever = Duration.ofSeconds(Long.MAX_VALUE);
        assertThatThrownBy(() -> ObjectWriteAheadLog.builder().flushInterval(forever).build())
                .isInstanceOfSatisfying(ShaleException.class, se -> {
                    assertThat(se.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(se.getMessage()).contains("flushInterval must be between 1 ms and 1 h");
                });
        ObjectWriteAheadLog wal = open(manualFlush().maxBlock(forever).closeTimeout(forever));
        RecordingEntry e = entry(1, 0, 10);
        assertThat(wal.append(e)).isEqualTo(BASE);
        wal.flush().orTimeout(30, TimeUnit.SECONDS).join();
        e.outcome.orTimeout(30, TimeUnit.SECONDS).join();
        wal.close();
    }

    @Test
    void lifecycleMisuseShouldBeRejected() {
        ObjectWriteAheadLog unopened = manualFlush().build();
        assertThatThrownBy(() -> unopened.append(entry(1, 0, 1))).isInstanceOf(IllegalStateException.class);
        ObjectWriteAheadLog wal = open(manualFlush());
        wal.append(entry(1, 0, 1));
        assertThatThrownBy(() -> wal.replay((s, i, o, p) -> {
        })).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> wal.open(ctx)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> wal.append(new RecordingEntry(-1, 0, ByteBuffer.allocate(1))))
                .isInstanceOf(IllegalArgumentException.class);
        unopened.close();
    }

    @Test
    void entryOverTheSizeLimitShouldBeRejectedWithoutBeingQueued() {
        ObjectWriteAheadLog wal = open(manualFlush());
        RecordingEntry huge = new RecordingEntry(1, 0, ByteBuffer.allocate(ObjectWriteAheadLog.MAX_ENTRY_BYTES + 1));
        assertThatThrownBy(() -> wal.append(huge)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(ObjectWriteAheadLog.MAX_ENTRY_BYTES));
        assertThat(wal.nextSequence()).isEqualTo(BASE);
    }

    @Test
    void replayShouldRejectAnEpochThatDoesNotFitTheSequenceLayout() {
        ObjectWriteAheadLog wal = manualFlush().build();
        try (TestWalContext big = new TestWalContext(ObjectWriteAheadLog.MAX_EPOCH + 1, store)) {
            wal.open(big); // the epoch is claimed after open: it is read by replay
            assertThatThrownBy(() -> wal.replay((s, i, o, p) -> {
            })).isInstanceOfSatisfying(ShaleException.class,
                    se -> assertThat(se.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        }
    }

    @Test
    void openShouldNotAskForTheWriterEpochWhichIsClaimedLater() {
        ObjectWriteAheadLog wal = manualFlush().build();
        try (TestWalContext unclaimed = new TestWalContext(EPOCH, store) {
            @Override
            public long writerEpoch() {
                throw new IllegalStateException("not claimed yet");
            }
        }) {
            wal.open(unclaimed);
            wal.close();
        }
    }

    @Test
    void replayCalledTwiceBeforeTheFirstAppendShouldDeliverTheSameEntries() {
        ObjectWriteAheadLog first = open(manualFlush());
        long a = first.append(entry(1, 0, 3));
        long b = first.append(entry(2, 5, 4));
        first.flush().join();
        first.close();
        ObjectWriteAheadLog again = manualFlush().build();
        again.open(ctx);
        List<String> one = new ArrayList<>();
        List<String> two = new ArrayList<>();
        again.replay((s, stream, base, p) -> one.add(s + "/" + stream + "/" + base + "/" + p.remaining()));
        again.replay((s, stream, base, p) -> two.add(s + "/" + stream + "/" + base + "/" + p.remaining()));
        assertThat(one).hasSize(2).containsExactlyElementsOf(two);
        assertThat(one.get(0)).startsWith(a + "/1/0/");
        assertThat(one.get(1)).startsWith(b + "/2/5/");
        again.close();
    }

    @Test
    void builderShouldRejectEachInvalidSettingNamingIt() {
        List<Runnable> invalid = List.of(
                () -> ObjectWriteAheadLog.builder().keyPrefix("wal").build(),
                () -> ObjectWriteAheadLog.builder().keyPrefix("/wal/").build(),
                () -> ObjectWriteAheadLog.builder().keyPrefix("a/../").build(),
                () -> ObjectWriteAheadLog.builder().flushInterval(Duration.ZERO).build(),
                () -> ObjectWriteAheadLog.builder().flushBytes(0).build(),
                () -> ObjectWriteAheadLog.builder().maxInFlightPuts(0).build(),
                () -> ObjectWriteAheadLog.builder().maxBufferedBytes(1024).build(),
                () -> ObjectWriteAheadLog.builder().maxBlock(Duration.ofMillis(-1)).build(),
                () -> ObjectWriteAheadLog.builder().closeTimeout(Duration.ofMillis(-1)).build(),
                () -> ObjectWriteAheadLog.builder().replayParallelism(0).build(),
                () -> ObjectWriteAheadLog.builder().listPageSize(1001).build());
        List<String> names = List.of("keyPrefix", "keyPrefix", "keyPrefix", "flushInterval", "flushBytes",
                "maxInFlightPuts", "maxBufferedBytes", "maxBlock", "closeTimeout", "replayParallelism", "listPageSize");
        for (int i = 0; i < invalid.size(); i++) {
            String name = names.get(i);
            assertThatThrownBy(invalid.get(i)::run).isInstanceOfSatisfying(ShaleException.class, se -> {
                assertThat(se.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                assertThat(se.getMessage()).contains(name);
            });
        }
    }

    @Test
    void putsShouldOverlapUpToTheInFlightLimit() {
        store.holdPuts(true);
        ObjectWriteAheadLog wal = open(manualFlush().maxInFlightPuts(3));
        for (int i = 0; i < 5; i++) {
            wal.append(entry(1, i, 10));
            wal.flush();
        }
        awaitTrue("three PUTs are in flight", () -> store.heldPutCount() == 3);
        assertThat(wal.metrics().putsInFlight()).isEqualTo(3);
        store.releaseOldestPut();
        awaitTrue("the fourth PUT starts", () -> store.putAttempts.get() == 4);
        store.holdPuts(false);
        while (store.heldPutCount() > 0 || store.putAttempts.get() < 5) {
            store.releaseOldestPut();
        }
        CompletableFuture<Void> all = wal.flush();
        all.join();
        assertThat(wal.metrics().entriesDurable()).isEqualTo(5);
    }
}
