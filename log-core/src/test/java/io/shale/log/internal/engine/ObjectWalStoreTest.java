package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.testing.SharedObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The store running on the object WAL: the mode that survives the loss of the machine. */
class ObjectWalStoreTest extends EngineFixture {

    private StoreEngine openOnObjectWal() {
        ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(10)).build();
        StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), owal, clock, StoreConfig.of(QUIET));
        opened.add(s);
        return s;
    }

    @Test
    void acknowledgedAppendsShouldSurviveLosingTheMachineAndComeBackFromTheObjectWal() throws Exception {
        StoreEngine s = openOnObjectWal();
        s.createTopic("t", 4);
        List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            acks.add(s.append(TopicPartition.of("t", i % 4), List.of(rec("k", "v" + i))));
        }
        acks.forEach(CompletableFuture::join);
        assertThat(objects.keys()).anyMatch(k -> k.startsWith("wal/"));
        // the machine is gone: nothing is closed, no upload happens, the local process state is lost
        s.crashForTesting();
        StoreEngine elsewhere = openOnObjectWal();
        for (int p = 0; p < 4; p++) {
            List<String> expected = new ArrayList<>();
            for (int i = p; i < 40; i += 4) {
                expected.add("v" + i);
            }
            assertThat(readAll(elsewhere, TopicPartition.of("t", p))).isEqualTo(expected);
        }
        elsewhere.flush();
        // trimming deletes the replayed WAL objects asynchronously once their data is uploaded
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (walObjects() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(walObjects()).as("WAL objects trimmed once uploaded").isZero();
    }

    /** WAL objects; the claim record each open writes (wal/claims/<epoch>) holds no data. */
    private long walObjects() {
        return objects.keys().stream().filter(k -> k.startsWith("wal/") && !k.startsWith("wal/claims/")).count();
    }

    @Test
    void aCleanCloseShouldUploadEverythingAndLeaveNoWalObjectsBehind() {
        StoreEngine s = openOnObjectWal();
        s.createTopic("t", 2);
        for (int i = 0; i < 20; i++) {
            append(s, TopicPartition.of("t", i % 2), "v" + i);
        }
        s.close();
        assertThat(walObjects()).isZero();
        StoreEngine again = openOnObjectWal();
        assertThat(readAll(again, TopicPartition.of("t", 0))).hasSize(10);
    }

    @Test
    void aFencedZombieShouldNotAcknowledgeAppendsTheNewWriterCannotSee() {
        StoreEngine zombie = openOnObjectWal();
        zombie.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(zombie, tp, "before");
        StoreEngine successor = openOnObjectWal();
        CompletableFuture<AppendResult> late = zombie.append(tp, List.of(rec("k", "late")));
        assertKind(late::join, ErrorKind.FENCED);
        assertThat(readAll(successor, tp)).containsExactly("before");
        append(successor, tp, "after");
        assertThat(readAll(successor, tp)).containsExactly("before", "after");
    }
}
