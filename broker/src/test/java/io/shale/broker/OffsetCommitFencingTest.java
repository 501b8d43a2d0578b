package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ConsumerOffsets;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.storage.local.LocalStorage;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OffsetCommit's membership check and its write are one step per group: a member fenced after its check passed
 * cannot have its offset land after the offset of the member that replaced it. The interleaving is forced by a
 * store whose first offsets append waits until the replacement has committed.
 */
class OffsetCommitFencingTest {
    @TempDir
    Path dir;

    @Test
    void aFencedMembersCommitDoesNotLandAfterItsReplacementsCommit() throws Exception {
        CountDownLatch atAppend = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean armed = new AtomicBoolean();
        try (LogStore real = LocalStorage.open(dir)) {
            real.createTopic("t", 1);
            LogStore store = (LogStore) Proxy.newProxyInstance(LogStore.class.getClassLoader(),
                    new Class<?>[] {LogStore.class}, (proxy, m, args) -> {
                        if (m.getName().equals("append") && args != null && args[0] instanceof TopicPartition tp
                                && tp.topic().equals(ConsumerOffsets.TOPIC) && armed.compareAndSet(true, false)) {
                            atAppend.countDown();
                            assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
                        }
                        try {
                            return m.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
            try {
                GroupApis apis = new GroupApis(store, groups, 0, "localhost", 9092, (g, tp) -> false);
                Joined a = stableMember(groups, "a");
                armed.set(true);
                CompletableFuture<OffsetCommitResponseData> aCommit = CompletableFuture.supplyAsync(
                        () -> commit(apis, a, 10).join());
                assertThat(atAppend.await(30, TimeUnit.SECONDS)).as("a's commit passed its check").isTrue();

                // a is fenced (leaves; in a real broker: its session expires) and b takes the partition over
                assertThat(groups.leave("g", a.memberId(), null)).isEqualTo(Errors.NONE);
                Joined b = stableMember(groups, "b");
                assertThat(b.generation()).isGreaterThan(a.generation());
                CompletableFuture<OffsetCommitResponseData> bCommit = commit(apis, b, 20);
                release.countDown();

                assertThat(error(aCommit.get(30, TimeUnit.SECONDS))).isEqualTo(Errors.NONE);
                assertThat(error(bCommit.get(30, TimeUnit.SECONDS))).isEqualTo(Errors.NONE);
                assertThat(groups.fetch("g").get(TopicPartition.of("t", 0)).offset())
                        .as("the offset of the partition's current owner").isEqualTo(20);
            } finally {
                release.countDown();
                groups.close();
            }
        }
    }

    /** A member of a stable group "g": its id and generation. */
    private record Joined(String memberId, int generation) {}

    private static Joined stableMember(GroupCoordinator groups, String client) throws Exception {
        GroupCoordinator.JoinResult j = groups.join("g", "", null, client, "/127.0.0.1", 10_000, 2_000, "consumer",
                List.of(new GroupCoordinator.Protocol("range", new byte[0])), false).get(30, TimeUnit.SECONDS);
        assertThat(j.error()).isEqualTo(Errors.NONE);
        GroupCoordinator.SyncResult s = groups.sync("g", j.memberId(), j.generation(), "consumer", "range",
                Map.of(j.memberId(), new byte[0])).get(30, TimeUnit.SECONDS);
        assertThat(s.error()).isEqualTo(Errors.NONE);
        return new Joined(j.memberId(), j.generation());
    }

    private static CompletableFuture<OffsetCommitResponseData> commit(GroupApis apis, Joined member, long offset) {
        OffsetCommitRequestData d = new OffsetCommitRequestData().setGroupId("g").setMemberId(member.memberId())
                .setGenerationIdOrMemberEpoch(member.generation());
        d.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t").setPartitions(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                        .setCommittedOffset(offset))));
        short v = 8;
        OffsetCommitRequest req = new OffsetCommitRequest(d, v);
        RequestHeader h = new RequestHeader(ApiKeys.OFFSET_COMMIT, v, "c", 1);
        return apis.handle(h, req, "/127.0.0.1").thenApply(m -> (OffsetCommitResponseData) m);
    }

    private static Errors error(OffsetCommitResponseData r) {
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }
}
