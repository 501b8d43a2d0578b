package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.testing.SharedObjectStore;
import io.shale.storage.testkit.FaultInjectingObjectStore;
import io.shale.storage.testkit.FaultInjectingObjectStore.Fault;
import io.shale.storage.testkit.FaultInjectingObjectStore.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Regression: a compaction whose manifest commit had an unknown outcome (it landed, but the writer
 * saw a failure) lost data. The compactor forgot its output object at once, so the orphan scan
 * deleted it as "written but never committed"; the next commit then found that the delta had
 * landed and applied it, replacing the source runs by runs in the deleted object. Found by
 * {@code ObjectStoreFaultTest} (scenario "permanent": a failed fence check after the delta was
 * created). Objects named by an unresolved commit must count as in flight.
 */
class UnresolvedCommitOrphanTest extends EngineFixture {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"answer to the delta PUT lost", "fence check after the delta failed"})
    void objectOfACompactionWhoseCommitOutcomeIsUnknownShouldNotBeDeletedAsAnOrphan(String how) {
        boolean lost = how.startsWith("answer");
        FaultInjectingObjectStore faulty = FaultInjectingObjectStore.builder(new SharedObjectStore(objects))
                .startEnabled(false)
                .onlyKeys(k -> k.startsWith(lost ? "manifest/deltas/" : "manifest/fence/"))
                .rate(lost ? Op.PUT_IF_ABSENT : Op.HEAD, lost ? Fault.LOST_RESPONSE : Fault.TRANSIENT, 1.0)
                .build();
        StoreEngine s = (StoreEngine) StoreEngine.open(faulty, wal, clock, StoreConfig.of(QUIET)
                .with(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 0, StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 2,
                        StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS, 200)));
        opened.add(s);
        s.createTopic("t", 1, Map.of(TopicConfig.SEGMENT_BYTES, 1024));
        TopicPartition tp = TopicPartition.of("t", 0);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String v = "v" + i + "-" + "x".repeat(300);
            append(s, tp, v);
            expected.add(v);
            s.flush();
        }

        // The compaction's delta is created, but the fence check after it fails: outcome unknown.
        faulty.startFaults();
        try {
            s.maintenance.runNow(s.maintenance::runCompaction);
        } catch (ShaleException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        }
        faulty.stopFaults();
        assertThat(faulty.totalFaults()).isPositive();

        s.maintenance.runNow(s.maintenance::deleteOrphans);
        // The next commit learns that the compaction landed; then the replaced objects are deleted.
        append(s, tp, "after");
        expected.add("after");
        flushRetrying(s);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);

        assertThat(readAll(s, tp)).isEqualTo(expected);
        s.close();
        assertThat(readAll(open(), tp)).isEqualTo(expected);
    }

    private static void flushRetrying(StoreEngine s) {
        for (int i = 0; ; i++) {
            try {
                s.flush();
                return;
            } catch (ShaleException e) {
                if (e.kind() != ErrorKind.UNAVAILABLE || i >= 3) {
                    throw e;
                }
            }
        }
    }
}
