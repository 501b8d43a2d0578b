package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ConsumerOffsets;
import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator's state machine directly: initial delay, protocol vote, close. */
class GroupCoordinatorTest {
    @TempDir
    Path dir;
    LogStore store;
    GroupCoordinator groups;

    @BeforeEach
    void open() {
        store = LocalStorage.open(dir);
        // a long initial delay: bounded by the members' rebalance timeout (2 s below)
        groups = new GroupCoordinator(ConsumerOffsets.open(store), 60_000, 100, 60_000, 20);
    }

    @AfterEach
    void close() {
        groups.close();
        store.close();
    }

    private static List<GroupCoordinator.Protocol> protocols(String... names) {
        return java.util.Arrays.stream(names).map(n -> new GroupCoordinator.Protocol(n, n.getBytes(java.nio.charset.StandardCharsets.UTF_8))).toList();
    }

    private CompletableFuture<GroupCoordinator.JoinResult> join(String group, String client, String... protocols) {
        return groups.join(group, "", null, client, "/127.0.0.1", 10_000, 2_000, "consumer", protocols(protocols), false);
    }

    @Test
    void theFirstRebalanceOfAnEmptyGroupWaitsForMoreMembersAndTheProtocolIsVoted() throws Exception {
        CompletableFuture<GroupCoordinator.JoinResult> a = join("g", "a", "range", "roundrobin");
        CompletableFuture<GroupCoordinator.JoinResult> b = join("g", "b", "roundrobin", "range");
        CompletableFuture<GroupCoordinator.JoinResult> c = join("g", "c", "roundrobin");
        GroupCoordinator.JoinResult ra = a.get(10, TimeUnit.SECONDS);
        GroupCoordinator.JoinResult rb = b.get(10, TimeUnit.SECONDS);
        GroupCoordinator.JoinResult rc = c.get(10, TimeUnit.SECONDS);
        for (GroupCoordinator.JoinResult r : List.of(ra, rb, rc)) {
            assertThat(r.error()).isEqualTo(Errors.NONE);
            assertThat(r.generation()).isEqualTo(1);
            assertThat(r.protocolName()).as("the only protocol all support").isEqualTo("roundrobin");
            assertThat(r.leader()).isEqualTo(ra.memberId());
        }
        assertThat(ra.members()).hasSize(3);
        assertThat(rb.members()).isEmpty();
        assertThat(groups.describe("g").state()).isEqualTo(GroupCoordinator.State.COMPLETING_REBALANCE);
    }

    @Test
    void closeAnswersWaitingJoins() throws Exception {
        CompletableFuture<GroupCoordinator.JoinResult> a =
                groups.join("g", "", null, "a", "/h", 10_000, 60_000, "consumer", protocols("range"), false);
        assertThat(a).isNotDone(); // waits the initial delay
        groups.close();
        assertThat(a.get(5, TimeUnit.SECONDS).error()).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(join("g", "b", "range").get(5, TimeUnit.SECONDS).error()).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
    }
}
