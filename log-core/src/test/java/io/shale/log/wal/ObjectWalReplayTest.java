package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.expected;
import static io.shale.log.wal.WalTesting.manualFlush;
import static io.shale.log.wal.WalTesting.replay;
import static io.shale.log.wal.WalTesting.replayAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.wal.WalTesting.Replayed;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ObjectWalReplayTest {
    private final InMemoryObjectStore store = new InMemoryObjectStore();

    /** Writes {@code perObject} entries per object, {@code objects} objects, with epoch {@code epoch}; returns them in order. */
    private List<Replayed> write(long epoch, int objects, int perObject, List<ObjectWalReplayTest.Written> keysOut) {
        List<Replayed> out = new ArrayList<>();
        try (TestWalContext ctx = new TestWalContext(epoch, store)) {
            ObjectWriteAheadLog wal = manualFlush().build();
            wal.open(ctx);
            replay(wal);
            for (int o = 0; o < objects; o++) {
                long first = -1;
                List<RecordingEntry> batch = new ArrayList<>();
                for (int i = 0; i < perObject; i++) {
                    RecordingEntry e = RecordingEntry.of(o % 4, o * 100L + i, "epoch " + epoch + " object " + o + " entry " + i);
                    long seq = wal.append(e);
                    first = first < 0 ? seq : first;
                    out.add(expected(seq, e));
                    batch.add(e);
                }
                wal.flush().join();
                batch.forEach(e -> assertThat(e.awaitOutcome()).isNull());
                if (keysOut != null) {
                    keysOut.add(new Written(WalObjectKey.of("wal/", epoch, first).key(), perObject));
                }
            }
            wal.close();
        }
        return out;
    }

    record Written(String key, int entries) {
    }

    @Test
    void replayShouldReturnEveryAcknowledgedEntryExactlyOnceInSequenceOrderAcrossObjects() {
        List<Replayed> written = write(5, 4, 3, null);
        assertThat(WalTesting.objectKeys(store.keys())).hasSize(4);
        List<Replayed> replayed = replayAll(store, 5, manualFlush());
        assertThat(replayed).containsExactlyElementsOf(written);
        assertThat(replayed).extracting(Replayed::sequence).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void replayShouldDeliverAnOlderEpochBeforeANewerOneEvenWhenItsCountersAreLarger() {
        List<Replayed> old = write(5, 3, 20, null); // counters of epoch 5 reach 59
        List<Replayed> all = new ArrayList<>(old);
        try (TestWalContext ctx = new TestWalContext(6, store)) {
            ObjectWriteAheadLog wal = manualFlush().build();
            wal.open(ctx);
            assertThat(replay(wal)).containsExactlyElementsOf(old);
            for (int i = 0; i < 3; i++) {
                RecordingEntry e = RecordingEntry.of(1, 1000 + i, "epoch 6 entry " + i);
                long seq = wal.append(e);
                assertThat(seq & (ObjectWriteAheadLog.SEQUENCES_PER_EPOCH - 1)).isEqualTo(i); // counter restarts per epoch
                all.add(expected(seq, e));
            }
            wal.close();
        }
        List<Replayed> replayed = replayAll(store, 7, manualFlush());
        assertThat(replayed).containsExactlyElementsOf(all);
        assertThat(replayed.subList(0, old.size())).allMatch(r -> r.sequence() >>> ObjectWriteAheadLog.EPOCH_SHIFT == 5);
    }

    @Test
    void sequencesAfterReplayShouldStartAboveEveryReplayedOneWhenTheEpochIsReused() {
        List<Replayed> before = write(5, 2, 3, null);
        List<Replayed> after = write(5, 1, 2, null); // a restart that kept the epoch: must not collide with earlier keys
        assertThat(after.get(0).sequence()).isGreaterThan(before.get(before.size() - 1).sequence());
        List<Replayed> all = new ArrayList<>(before);
        all.addAll(after);
        assertThat(replayAll(store, 5, manualFlush())).containsExactlyElementsOf(all);
    }

    @Test
    void replayShouldRefuseToRunForAWriterOlderThanTheObjectsInTheStore() {
        write(6, 1, 1, null);
        assertThatThrownBy(() -> replayAll(store, 5, manualFlush()))
                .isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.kind()).isEqualTo(ErrorKind.FENCED));
    }

    @Test
    void replayShouldDeliverTheValidFramesBeforeTheDamageOfATruncatedObjectAndContinue() {
        List<Written> keys = new ArrayList<>();
        List<Replayed> written = write(5, 3, 3, keys);
        String middle = keys.get(1).key();
        byte[] bytes = store.bytes(middle);
        int secondFrameMiddle = ObjectWalFormat.HEADER_LENGTH + frameLength(written.get(3)) + 10;
        store.corrupt(middle, Arrays.copyOf(bytes, secondFrameMiddle));

        ObjectWalMetrics[] metrics = new ObjectWalMetrics[1];
        List<Replayed> replayed = replayWithMetrics(manualFlush(), metrics);

        List<Replayed> expected = new ArrayList<>(written.subList(0, 4)); // object 0, first frame of object 1
        expected.addAll(written.subList(6, 9)); // object 2
        assertThat(replayed).containsExactlyElementsOf(expected);
        assertThat(metrics[0].replayDamagedObjects()).isEqualTo(1);
        assertThat(metrics[0].replayLostEntries()).isEqualTo(2);
    }

    @Test
    void replayShouldRecoverEveryEntryWhenOnlyTheTrailerIsDamaged() {
        List<Written> keys = new ArrayList<>();
        List<Replayed> written = write(5, 1, 3, keys);
        byte[] bytes = store.bytes(keys.get(0).key());
        bytes[bytes.length - 3] ^= 0x40;
        store.corrupt(keys.get(0).key(), bytes);
        ObjectWalMetrics[] metrics = new ObjectWalMetrics[1];
        assertThat(replayWithMetrics(manualFlush(), metrics)).containsExactlyElementsOf(written);
        assertThat(metrics[0].replayDamagedObjects()).isEqualTo(1);
        assertThat(metrics[0].replayLostEntries()).isZero();
    }

    @Test
    void replayShouldFailCorruptStorageNamingTheKeyWhenAnObjectsHeaderIsDamaged() {
        List<Written> keys = new ArrayList<>();
        write(5, 2, 2, keys);
        String key = keys.get(1).key();
        byte[] bytes = store.bytes(key);
        bytes[ObjectWalFormat.HEADER_ENTRY_COUNT_OFFSET] ^= 0x01;
        store.corrupt(key, bytes);
        assertThatThrownBy(() -> replayAll(store, 5, manualFlush())).isInstanceOfSatisfying(ShaleException.class, se -> {
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(key).contains("header CRC");
        });
    }

    @Test
    void replayShouldFailCorruptStorageWhenNotEvenTheFirstFrameOfAnObjectVerifies() {
        List<Written> keys = new ArrayList<>();
        write(5, 1, 2, keys);
        String key = keys.get(0).key();
        byte[] bytes = store.bytes(key);
        bytes[ObjectWalFormat.HEADER_LENGTH + ObjectWalFormat.FRAME_PAYLOAD_OFFSET] ^= 0x01;
        store.corrupt(key, bytes);
        assertThatThrownBy(() -> replayAll(store, 5, manualFlush())).isInstanceOfSatisfying(ShaleException.class, se -> {
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(key).contains("CRC");
        });
    }

    @Test
    void replayShouldSkipAnUnreadableObjectOnlyWhenTheOperatorAllowsIt() {
        List<Written> keys = new ArrayList<>();
        List<Replayed> written = write(5, 3, 2, keys);
        store.corrupt(keys.get(1).key(), "not a WAL object".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        ObjectWalMetrics[] metrics = new ObjectWalMetrics[1];
        List<Replayed> replayed = replayWithMetrics(manualFlush().skipUnreadableObjects(true), metrics);
        List<Replayed> expected = new ArrayList<>(written.subList(0, 2));
        expected.addAll(written.subList(4, 6));
        assertThat(replayed).containsExactlyElementsOf(expected);
        assertThat(metrics[0].replayDamagedObjects()).isEqualTo(1);
    }

    @Test
    void replayShouldIgnoreKeysUnderThePrefixThatAreNotWalObjects() {
        List<Replayed> written = write(5, 1, 2, null);
        store.put("wal/README", Payload.of(new byte[] {1}), null).join();
        store.put("wal/00000000000000000005-xyz", Payload.of(new byte[] {1}), null).join();
        assertThat(replayAll(store, 5, manualFlush())).containsExactlyElementsOf(written);
    }

    @Test
    void replayShouldReadObjectsAcrossListPagesWithBoundedParallelFetches() {
        List<Replayed> written = write(5, 20, 2, null);
        GatedGetStore gated = new GatedGetStore(store);
        List<Replayed> replayed = replayAll(gated, 5, manualFlush().listPageSize(3).replayParallelism(4));
        assertThat(replayed).containsExactlyElementsOf(written);
        assertThat(gated.maxOutstanding.get()).isEqualTo(4);
        long listsBefore = store.lists.get();
        replayAll(store, 5, manualFlush().listPageSize(3));
        assertThat(store.lists.get() - listsBefore).isEqualTo(7); // 20 keys, 3 per page
    }

    private List<Replayed> replayWithMetrics(ObjectWriteAheadLog.Builder builder, ObjectWalMetrics[] metricsOut) {
        try (TestWalContext ctx = new TestWalContext(5, store)) {
            ObjectWriteAheadLog wal = builder.build();
            wal.open(ctx);
            List<Replayed> out = replay(wal);
            metricsOut[0] = wal.metrics();
            wal.close();
            return out;
        }
    }

    private static int frameLength(Replayed r) {
        return ObjectWalFormat.FRAME_HEADER_LENGTH + r.payload().length;
    }

    /**
     * Holds every GET until the replaying thread blocks waiting for one, then completes the oldest
     * (and waits for the replayer to issue its next GET before releasing another). So the largest
     * number of GETs held at once is exactly how many replay issues before it has to wait: its
     * parallelism, whatever it is.
     */
    static final class GatedGetStore extends ForwardingObjectStore {
        private final InMemoryObjectStore inner;
        private final int total;
        private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
        private int issued;
        private int issuedSinceRelease;
        private volatile Thread replayer;
        final AtomicInteger maxOutstanding = new AtomicInteger();

        GatedGetStore(InMemoryObjectStore inner) {
            super(inner);
            this.inner = inner;
            this.total = inner.keys().size();
            Thread releaser = new Thread(this::releaseLoop, "gated-get-releaser");
            releaser.setDaemon(true);
            releaser.start();
        }

        private void releaseLoop() {
            while (true) {
                Runnable next = null;
                synchronized (this) {
                    if (issued == total && pending.isEmpty()) {
                        return;
                    }
                    Thread r = replayer;
                    if (!pending.isEmpty() && r != null && r.getState() == Thread.State.WAITING
                            && (issuedSinceRelease > 0 || issued == total)) {
                        next = pending.pollFirst();
                        issuedSinceRelease = 0;
                    }
                }
                if (next != null) {
                    next.run();
                } else {
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }

        @Override
        public synchronized CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
            replayer = Thread.currentThread();
            CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
            pending.addLast(() -> inner.get(key, offset, length).whenComplete((v, e) -> {
                if (e != null) {
                    f.completeExceptionally(e);
                } else {
                    f.complete(v);
                }
            }));
            issued++;
            issuedSinceRelease++;
            maxOutstanding.accumulateAndGet(pending.size(), Math::max);
            return f;
        }

        @Override
        public String describe() {
            return "gated-mem://";
        }

        @Override
        public void close() {
        }
    }
}
