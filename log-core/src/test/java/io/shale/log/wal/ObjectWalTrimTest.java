package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.manualFlush;
import static io.shale.log.wal.WalTesting.replay;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.wal.TestWalContext.FenceMode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ObjectWalTrimTest {
    private final InMemoryObjectStore store = new InMemoryObjectStore();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ObjectWriteAheadLog open(long epoch, boolean replay) {
        TestWalContext ctx = new TestWalContext(epoch, store);
        toClose.add(ctx);
        ObjectWriteAheadLog wal = manualFlush().build();
        toClose.add(wal);
        wal.open(ctx);
        if (replay) {
            replay(wal);
        }
        return wal;
    }

    /** Writes one object of {@code n} entries; returns its sequences. */
    private static long[] object(ObjectWriteAheadLog wal, int n) {
        long[] seqs = new long[n];
        List<RecordingEntry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RecordingEntry e = RecordingEntry.of(1, i, "entry " + i);
            seqs[i] = wal.append(e);
            entries.add(e);
        }
        wal.flush().join();
        entries.forEach(e -> assertThat(e.awaitOutcome()).isNull());
        return seqs;
    }

    private static String key(long epoch, long firstSeq) {
        return WalObjectKey.of("wal/", epoch, firstSeq).key();
    }

    @Test
    void trimShouldDeleteExactlyTheObjectsWhoseEveryEntryIsBelowTheSequence() {
        ObjectWriteAheadLog wal = open(5, true);
        long[] a = object(wal, 3);
        long[] b = object(wal, 3);
        long[] c = object(wal, 3);
        String ka = key(5, a[0]);
        String kb = key(5, b[0]);
        String kc = key(5, c[0]);

        wal.trimAsync(b[1]).join(); // b[1] and b[2] are still needed
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly(kb, kc);
        wal.trimAsync(c[0]).join();
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly(kc);
        wal.trimAsync(c[2]).join(); // c[2] itself is not below c[2]
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly(kc);
        wal.trimAsync(c[2] + 1).join();
        assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        assertThat(wal.metrics().objectsTrimmed()).isEqualTo(3);
        assertThat(ka).isNotEqualTo(kb);
    }

    private long storedWalBytes() {
        long sum = 0;
        for (String k : WalTesting.objectKeys(store.keys())) {
            if (k.startsWith("wal/")) {
                sum += store.bytes(k).length;
            }
        }
        return sum;
    }

    @Test
    void sizeBytesShouldCountTheObjectsWrittenOrReplayedAndNotTrimmed() {
        ObjectWriteAheadLog old = open(5, true);
        assertThat(old.sizeBytes()).isZero();
        object(old, 3);
        object(old, 3);
        assertThat(old.sizeBytes()).isPositive().isEqualTo(storedWalBytes());
        old.close();

        ObjectWriteAheadLog wal = open(6, true); // replays the old writer's two objects
        assertThat(wal.sizeBytes()).isEqualTo(storedWalBytes());
        long[] fresh = object(wal, 3);
        assertThat(wal.sizeBytes()).isEqualTo(storedWalBytes());
        wal.trimAsync(fresh[0]).join(); // the old writer's objects go
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly(key(6, fresh[0]));
        assertThat(wal.sizeBytes()).isEqualTo(storedWalBytes()).isPositive();
        wal.trimAsync(fresh[2] + 1).join();
        assertThat(wal.sizeBytes()).isZero();
    }

    @Test
    void trimShouldUseOneListingAndOneBatchedDeletePerPass() {
        ObjectWriteAheadLog wal = open(5, true);
        object(wal, 1);
        object(wal, 1);
        long[] last = object(wal, 1);
        long lists = store.lists.get();
        long deletes = store.deletes.get();
        wal.trimAsync(last[0] + 1).join();
        assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        assertThat(store.lists.get() - lists).isEqualTo(1);
        assertThat(store.deletes.get() - deletes).isEqualTo(1);
        wal.trimAsync(last[0] + 1).join(); // nothing new below the same floor: no request at all
        assertThat(store.lists.get() - lists).isEqualTo(1);
    }

    @Test
    void trimShouldDeleteTheObjectsOfOlderEpochsReplayedByANewWriter() {
        ObjectWriteAheadLog old = open(5, true);
        object(old, 2);
        object(old, 2);
        old.close();
        ObjectWriteAheadLog wal = open(6, true);
        long[] fresh = object(wal, 2);
        wal.trimAsync(fresh[0]).join();
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly(key(6, fresh[0]));
    }

    @Test
    void trimWithoutReplayShouldBoundObjectsByTheNextKeyAndTheirEpochAndKeepOneOfUnknownExtent() {
        ObjectWriteAheadLog writer = open(5, true);
        long[] a = object(writer, 2);
        long[] b = object(writer, 2);
        long[] c = object(writer, 2);
        writer.close();
        // An orphan of an older epoch that no replay has seen (e.g. a zombie's late PUT).
        String orphan = key(4, 4L << ObjectWriteAheadLog.EPOCH_SHIFT);
        store.put(orphan, Payload.of(new byte[] {0}), null).join();

        ObjectWriteAheadLog fresh = open(5, false); // knows nothing of these objects
        fresh.trimAsync(c[0] + 1).join();
        // a and b end before the next key; the orphan ends with its epoch; c might hold c[0] + 1.
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly(key(5, c[0]));
        assertThat(a[1]).isLessThan(b[0]);
        fresh.trimAsync(Long.MAX_VALUE).join(); // now even an unknown extent is below: epoch 5 ends before it
        assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
    }

    @Test
    void fencedWalShouldNeverDeleteObjects() {
        TestWalContext ctx = new TestWalContext(5, store);
        toClose.add(ctx);
        ObjectWriteAheadLog wal = manualFlush().build();
        toClose.add(wal);
        wal.open(ctx);
        replay(wal);
        long[] a = object(wal, 1);
        ctx.fenceMode(FenceMode.FENCED);
        RecordingEntry e = RecordingEntry.of(1, 1, "after fence");
        wal.append(e);
        wal.flush().join();
        assertThat(wal.metrics().fenced()).isTrue();
        List<String> before = WalTesting.objectKeys(store.keys());
        wal.trimAsync(Long.MAX_VALUE).join();
        assertThat(WalTesting.objectKeys(store.keys())).containsExactlyElementsOf(before).contains(key(5, a[0]));
    }
}
