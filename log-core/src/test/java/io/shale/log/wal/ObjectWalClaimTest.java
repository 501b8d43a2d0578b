package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.manualFlush;
import static io.shale.log.wal.WalTesting.replay;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.wal.TestWalContext.FenceMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Claim records (RFC 0006, "Claim records"): a WAL object of an older writer epoch is replayed only
 * if the newest claim record accepted it, across chains of claims with crashes in between, a claimer
 * that crashes before its record is durable, and stores written before claim records existed.
 *
 * <p>A "late" object below is one a fenced writer PUT after the next writer listed the WAL: its fence
 * check fails, so its entries are answered FENCED. A "crash" is a writer that is dropped without
 * trimming anything (its WAL is closed only to stop its threads; closing deletes nothing).
 */
class ObjectWalClaimTest {
    private final InMemoryObjectStore store = new InMemoryObjectStore();
    private final List<Writer> writers = new ArrayList<>();

    private final class Writer {
        final TestWalContext ctx;
        final ObjectWriteAheadLog wal;
        final List<String> replayed = new ArrayList<>();
        final List<RecordingEntry> pending = new ArrayList<>();

        Writer(long epoch, ObjectStore objects, boolean dataObjects) {
            ctx = new TestWalContext(epoch, objects);
            wal = manualFlush().dataObjects(dataObjects).build();
            writers.add(this);
            wal.open(ctx);
        }

        Writer replayNow() {
            replay(wal).forEach(r -> replayed.add(new String(r.payload(), StandardCharsets.UTF_8)));
            return this;
        }

        /** Appends {@code text} into the pending object (not sealed yet). */
        Writer add(String text) {
            RecordingEntry e = RecordingEntry.of(0, pending.size(), text);
            wal.append(e);
            pending.add(e);
            return this;
        }

        /** Seals and writes the pending object; returns what each entry was told (null = acknowledged). */
        List<Throwable> flush() {
            wal.flush().join();
            List<Throwable> outcomes = new ArrayList<>();
            for (RecordingEntry e : pending) {
                outcomes.add(e.awaitOutcome());
            }
            pending.clear();
            return outcomes;
        }

        void ack(String text) {
            add(text);
            assertThat(flush()).as("%s acknowledged", text).containsOnlyNulls();
        }

        /** The object pending now lands after the next writer's claim: its fence check fails. */
        void landLate() {
            ctx.fenceMode(FenceMode.FENCED);
            List<Throwable> outcomes = flush();
            assertThat(outcomes).isNotEmpty().allSatisfy(t -> assertThat(ShaleException.unwrap(t).kind())
                    .isEqualTo(ErrorKind.FENCED));
        }
    }

    @AfterEach
    void closeAll() {
        for (Writer w : writers) {
            w.wal.close();
            w.ctx.close();
        }
    }

    private Writer claim(long epoch, boolean dataObjects) {
        return new Writer(epoch, store, dataObjects).replayNow();
    }

    private List<String> claimRecords() {
        return store.keys().stream().filter(k -> k.startsWith("wal/claims/")).toList();
    }

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void aChainOfClaimsWithCrashesShouldKeepWhatEachClaimerAcceptedAndRejectWhatItNeverSaw(boolean dataObjects) {
        Writer a = claim(1, dataObjects);
        a.ack("a1");
        a.add("a2"); // in flight while B claims
        Writer b = claim(2, dataObjects);
        assertThat(b.replayed).containsExactly("a1");
        a.landLate();
        b.ack("b1");
        b.add("b2"); // in flight while C claims
        // B crashes before trimming anything
        Writer c = claim(3, dataObjects);
        assertThat(c.replayed).as("a2 landed after B listed: B never saw it").containsExactly("a1", "b1");
        b.landLate();
        c.ack("c1");
        // C crashes
        Writer d = claim(4, dataObjects);
        assertThat(d.replayed).as("what B accepted stays accepted, what B and C never saw stays rejected")
                .containsExactly("a1", "b1", "c1");
        WalTesting.awaitTrue("each record supersedes the older ones",
                () -> claimRecords().equals(List.of("wal/claims/00000000000000000004")));
        d.ack("d1");
        Writer e = claim(5, dataObjects);
        assertThat(e.replayed).containsExactly("a1", "b1", "c1", "d1");
        // E commits everything and trims: the rejected late objects go too
        e.ack("e1");
        e.wal.trimAsync(e.wal.nextSequence()).join();
        assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        assertThat(claim(6, dataObjects).replayed).isEmpty();
    }

    @Test
    void aClaimerThatCrashesBetweenItsListingAndItsRecordShouldLeaveTheDecisionToTheNextClaimer() {
        Writer a = claim(1, false);
        a.ack("a1");
        a.add("a2");
        Writer b = claim(2, false);
        a.landLate(); // rejected by B's record
        b.ack("b1");
        b.add("b2");
        // C claims epoch 3, lists the WAL, and dies before its claim record is durable
        ForwardingObjectStore noRecords = new ForwardingObjectStore(store) {
            @Override
            public CompletableFuture<Void> put(String key, Payload payload, String token) {
                return key.startsWith("wal/claims/")
                        ? CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT,
                                key, "the process died (test)"))
                        : super.put(key, payload, token);
            }
        };
        Writer c = new Writer(3, noRecords, false);
        assertThatThrownBy(() -> replay(c.wal)).isInstanceOfSatisfying(ShaleException.class,
                se -> assertThat(se.kind()).isEqualTo(ErrorKind.UNAVAILABLE));
        assertThatThrownBy(() -> c.wal.append(RecordingEntry.of(0, 0, "c1")))
                .as("a claimer without its record appends nothing").isInstanceOf(IllegalStateException.class);
        b.landLate(); // after C listed: C's claim had fenced B, but C acknowledged nothing
        WalTesting.awaitTrue("only B's record is left", () -> claimRecords().equals(List.of("wal/claims/00000000000000000002")));
        Writer d = claim(4, false);
        assertThat(d.replayed).as("B's record still rules epoch 1; C decided nothing, so D's listing does for epoch 2")
                .containsExactly("a1", "b1", "b2");
        d.ack("d1");
        assertThat(claim(5, false).replayed).containsExactly("a1", "b1", "b2", "d1");
    }

    @Test
    void aClaimerThatCrashesAfterItsRecordBeforeDeletingTheOlderOnesShouldBeRuledByTheNewestRecord() {
        Writer a = claim(1, false);
        a.ack("a1");
        a.add("a2");
        ForwardingObjectStore noDeletes = new ForwardingObjectStore(store) {
            @Override
            public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
                return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT,
                        null, "the process died (test)"));
            }
        };
        Writer b = new Writer(2, noDeletes, false).replayNow();
        assertThat(b.replayed).containsExactly("a1");
        a.landLate();
        assertThat(claimRecords()).hasSize(2);
        assertThat(claim(3, false).replayed).containsExactly("a1");
        WalTesting.awaitTrue("C deletes the records it superseded",
                () -> claimRecords().equals(List.of("wal/claims/00000000000000000003")));
    }

    @Test
    void aStoreWithoutClaimRecordsShouldReplayEveryObjectAsBefore() {
        Writer a = claim(1, false);
        a.ack("a1");
        a.add("a2");
        claim(2, false);
        a.landLate();
        // written by a release before claim records: there are none
        store.delete(claimRecords()).join();
        assertThat(claim(3, false).replayed).containsExactly("a1", "a2");
    }

    @Test
    void objectsOfAWriterWithoutARecordNewerThanTheNewestRecordShouldReplayEverythingAsBefore() {
        Writer a = claim(1, false);
        a.ack("a1");
        a.add("a2");
        claim(2, false);
        a.landLate();
        // epoch 3 runs a release before claim records: it writes none, deletes none, and replays a2
        ForwardingObjectStore earlierRelease = new ForwardingObjectStore(store) {
            @Override
            public CompletableFuture<Void> put(String key, Payload payload, String token) {
                return key.startsWith("wal/claims/") ? CompletableFuture.completedFuture(null)
                        : super.put(key, payload, token);
            }

            @Override
            public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
                return super.delete(keys.stream().filter(k -> !k.startsWith("wal/claims/")).toList());
            }
        };
        Writer c = new Writer(3, earlierRelease, false).replayNow();
        c.ack("c1");
        WalTesting.awaitTrue("only B's record", () -> claimRecords().equals(List.of("wal/claims/00000000000000000002")));
        assertThat(claim(4, false).replayed).as("the earlier release's view is unknown: everything, as it replayed")
                .containsExactly("a1", "a2", "c1");
    }

    @Test
    void anUnreadableClaimRecordShouldFailReplayUnlessTheOperatorAcceptsReplayingEverything() {
        Writer a = claim(1, false);
        a.ack("a1");
        a.add("a2");
        claim(2, false);
        a.landLate();
        store.corrupt("wal/claims/00000000000000000002", new byte[] {1, 2, 3});
        Writer c = new Writer(3, store, false);
        assertThatThrownBy(() -> replay(c.wal)).isInstanceOfSatisfying(ShaleException.class, se -> {
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains("wal/claims/00000000000000000002");
        });
        try (TestWalContext ctx = new TestWalContext(4, store)) {
            ObjectWriteAheadLog skipping = manualFlush().skipUnreadableObjects(true).build();
            skipping.open(ctx);
            assertThat(replay(skipping)).hasSize(2);
            skipping.close();
        }
    }

    @Test
    void aNewerWritersClaimRecordShouldFenceAnOlderReplay() {
        claim(5, false);
        Writer older = new Writer(4, store, false);
        assertThatThrownBy(() -> replay(older.wal)).isInstanceOfSatisfying(ShaleException.class,
                se -> assertThat(se.kind()).isEqualTo(ErrorKind.FENCED));
    }

    @Test
    void claimRecordsShouldRoundTripAndRejectDamage() {
        long e1 = 1L << ObjectWriteAheadLog.EPOCH_SHIFT;
        long[] seqs = {e1, e1 + 7, 3L << ObjectWriteAheadLog.EPOCH_SHIFT};
        var bytes = ObjectWalFormat.encodeClaimRecord(4, 3, seqs);
        String[] problem = new String[1];
        ObjectWalFormat.ClaimRecord r = ObjectWalFormat.decodeClaimRecord(bytes, 4, problem);
        assertThat(r.epoch()).isEqualTo(4);
        assertThat(r.basisEpoch()).isEqualTo(3);
        assertThat(r.firstSequences()).containsExactly(seqs);
        assertThat(ObjectWalFormat.decodeClaimRecord(bytes, 5, problem)).isNull();
        assertThat(problem[0]).contains("epoch");
        byte[] raw = new byte[bytes.remaining()];
        bytes.duplicate().get(raw);
        for (int i = 0; i < raw.length; i++) {
            byte[] damaged = raw.clone();
            damaged[i] ^= 0x10;
            assertThat(ObjectWalFormat.decodeClaimRecord(java.nio.ByteBuffer.wrap(damaged), 4, problem))
                    .as("a flipped bit at byte %d", i).isNull();
        }
        assertThatThrownBy(() -> ObjectWalFormat.encodeClaimRecord(2, -1, new long[] {3L << ObjectWriteAheadLog.EPOCH_SHIFT}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theDecisionShouldFollowTheNewestRecordOnlyWhenNoWriterWithoutARecordCameAfterIt() {
        long shift = ObjectWriteAheadLog.EPOCH_SHIFT;
        ObjectWalFormat.ClaimRecord r3 = new ObjectWalFormat.ClaimRecord(3, 2, new long[] {1L << shift});
        WalObjectKey seen = WalObjectKey.of("wal/", 1, 1L << shift);
        WalObjectKey late = WalObjectKey.of("wal/", 1, (1L << shift) + 5);
        WalObjectKey ofTheRecordsWriter = WalObjectKey.of("wal/", 3, 3L << shift);
        assertThat(ObjectWriteAheadLog.acceptsOlderEpochObject(seen, r3, -1)).isTrue();
        assertThat(ObjectWriteAheadLog.acceptsOlderEpochObject(late, r3, -1)).isFalse();
        assertThat(ObjectWriteAheadLog.acceptsOlderEpochObject(late, r3, 2)).as("unrecorded epoch older than the record")
                .isFalse();
        assertThat(ObjectWriteAheadLog.acceptsOlderEpochObject(ofTheRecordsWriter, r3, -1)).isTrue();
        assertThat(ObjectWriteAheadLog.acceptsOlderEpochObject(late, r3, 4)).as("an earlier release wrote after it").isTrue();
        assertThat(ObjectWriteAheadLog.acceptsOlderEpochObject(late, null, -1)).as("no record").isTrue();
    }
}
