package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group APIs byte for byte: every served version answers, session expiry, Kafka's error codes. */
class GroupProtocolTest {
    @TempDir
    Path dir;
    BrokerFixture fx;
    Socket socket;
    int correlation;

    @BeforeEach
    void start() throws Exception {
        fx = new BrokerFixture(dir);
        try (Admin admin = fx.admin()) {
            admin.createTopics(List.of(new NewTopic("t", 2, (short) 1))).all().get();
        }
        socket = new Socket("127.0.0.1", fx.broker.port());
        socket.setSoTimeout(15_000);
    }

    @AfterEach
    void stop() throws IOException {
        socket.close();
        fx.close();
    }

    @SuppressWarnings("unchecked")
    private <T extends ApiMessage> T call(ApiKeys key, short v, ApiMessage body) throws IOException {
        int id = ++correlation;
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(v)
                .setClientId("raw-group-test").setCorrelationId(id);
        ByteBuffer b = RequestUtils.serialize(h, key.requestHeaderVersion(v), body, v);
        ByteBuffer out = ByteBuffer.allocate(4 + b.remaining());
        out.putInt(b.remaining()).put(b).flip();
        socket.getOutputStream().write(out.array());
        socket.getOutputStream().flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] resp = new byte[in.readInt()];
        in.readFully(resp);
        ByteBuffer r = ByteBuffer.wrap(resp);
        assertThat(ResponseHeader.parse(r, key.responseHeaderVersion(v)).correlationId()).isEqualTo(id);
        return (T) AbstractResponse.parseResponse(key, new ByteBufferAccessor(r), v).data();
    }

    private static JoinGroupRequestData join(String group, String memberId, int sessionTimeoutMs, String type) {
        JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols =
                new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                .setMetadata("sub".getBytes(StandardCharsets.UTF_8)));
        return new JoinGroupRequestData().setGroupId(group).setMemberId(memberId).setSessionTimeoutMs(sessionTimeoutMs)
                .setRebalanceTimeoutMs(sessionTimeoutMs).setProtocolType(type).setProtocols(protocols);
    }

    /** Joins as the only member at version v: the response of the join that got a generation. */
    private JoinGroupResponseData joinAlone(String group, short v, int sessionTimeoutMs) throws IOException {
        JoinGroupResponseData r = call(ApiKeys.JOIN_GROUP, v, join(group, "", sessionTimeoutMs, "consumer"));
        if (v >= 4) {
            assertThat(Errors.forCode(r.errorCode())).isEqualTo(Errors.MEMBER_ID_REQUIRED);
            assertThat(r.memberId()).isNotEmpty();
            r = call(ApiKeys.JOIN_GROUP, v, join(group, r.memberId(), sessionTimeoutMs, "consumer"));
        }
        assertThat(Errors.forCode(r.errorCode())).as("join v%d", v).isEqualTo(Errors.NONE);
        return r;
    }

    @Test
    void everyServedVersionOfTheGroupApisAnswers() throws IOException {
        for (short v = ApiKeys.FIND_COORDINATOR.oldestVersion(); v <= ApiKeys.FIND_COORDINATOR.latestVersion(); v++) {
            FindCoordinatorRequestData req = new FindCoordinatorRequestData().setKeyType((byte) 0);
            if (v < 4) {
                req.setKey("g");
            } else {
                req.setCoordinatorKeys(List.of("g", "h"));
            }
            FindCoordinatorResponseData r = call(ApiKeys.FIND_COORDINATOR, v, req);
            if (v < 4) {
                assertThat(r.errorCode()).isZero();
                assertThat(r.port()).isEqualTo(fx.broker.port());
            } else {
                assertThat(r.coordinators()).hasSize(2).allMatch(c -> c.errorCode() == 0 && c.port() == fx.broker.port());
            }
        }
        for (short v = ApiKeys.JOIN_GROUP.oldestVersion(); v <= ApiKeys.JOIN_GROUP.latestVersion(); v++) {
            String group = "g-join-" + v;
            JoinGroupResponseData j = joinAlone(group, v, 10_000);
            assertThat(j.generationId()).isEqualTo(1);
            assertThat(j.leader()).isEqualTo(j.memberId());
            assertThat(j.protocolName()).isEqualTo("range");
            assertThat(j.members()).hasSize(1);
            short sv = (short) Math.min(v, ApiKeys.SYNC_GROUP.latestVersion());
            SyncGroupRequestData sync = new SyncGroupRequestData().setGroupId(group).setMemberId(j.memberId())
                    .setGenerationId(j.generationId()).setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment()
                            .setMemberId(j.memberId()).setAssignment(new byte[] {1, 2, 3})));
            if (sv >= 5) {
                sync.setProtocolType("consumer").setProtocolName("range");
            }
            SyncGroupResponseData s = call(ApiKeys.SYNC_GROUP, sv, sync);
            assertThat(s.errorCode()).isZero();
            assertThat(s.assignment()).containsExactly(1, 2, 3);
            short hv = (short) Math.min(v, ApiKeys.HEARTBEAT.latestVersion());
            HeartbeatResponseData h = call(ApiKeys.HEARTBEAT, hv, new HeartbeatRequestData().setGroupId(group)
                    .setMemberId(j.memberId()).setGenerationId(j.generationId()));
            assertThat(h.errorCode()).isZero();
        }
        for (short v = ApiKeys.OFFSET_COMMIT.oldestVersion(); v <= 9; v++) {
            OffsetCommitRequestData c = new OffsetCommitRequestData().setGroupId("g-offsets-" + v).setTopics(List.of(
                    new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t").setPartitions(List.of(
                            new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(1)
                                    .setCommittedOffset(7).setCommittedMetadata("m")))));
            OffsetCommitResponseData cr = call(ApiKeys.OFFSET_COMMIT, v, c);
            assertThat(cr.topics().get(0).partitions().get(0).errorCode()).as("commit v%d", v).isZero();
        }
        for (short v = ApiKeys.OFFSET_FETCH.oldestVersion(); v <= 9; v++) {
            OffsetFetchRequestData f = new OffsetFetchRequestData();
            if (v < 8) {
                f.setGroupId("g-offsets-2").setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopic()
                        .setName("t").setPartitionIndexes(List.of(0, 1))));
                OffsetFetchResponseData fr = call(ApiKeys.OFFSET_FETCH, v, f);
                assertThat(fr.topics().get(0).partitions()).extracting(p -> p.committedOffset()).containsExactly(-1L, 7L);
            } else {
                f.setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g-offsets-2")
                        .setTopics(null)));
                OffsetFetchResponseData fr = call(ApiKeys.OFFSET_FETCH, v, f);
                assertThat(fr.groups().get(0).topics().get(0).partitions()).extracting(p -> p.committedOffset())
                        .containsExactly(7L);
            }
        }
        for (short v = ApiKeys.LIST_GROUPS.oldestVersion(); v <= ApiKeys.LIST_GROUPS.latestVersion(); v++) {
            ListGroupsResponseData l = call(ApiKeys.LIST_GROUPS, v, new ListGroupsRequestData());
            assertThat(l.groups()).extracting(ListGroupsResponseData.ListedGroup::groupId).contains("g-join-0", "g-offsets-2");
        }
        for (short v = ApiKeys.DESCRIBE_GROUPS.oldestVersion(); v <= ApiKeys.DESCRIBE_GROUPS.latestVersion(); v++) {
            DescribeGroupsResponseData d = call(ApiKeys.DESCRIBE_GROUPS, v,
                    new DescribeGroupsRequestData().setGroups(List.of("g-join-9", "nobody")));
            assertThat(d.groups().get(0).groupState()).isEqualTo("Stable");
            assertThat(d.groups().get(0).members().get(0).memberAssignment()).containsExactly(1, 2, 3);
            assertThat(d.groups().get(1).groupState()).isEqualTo("Dead");
        }
    }

    @Test
    void aMemberThatStopsHeartbeatingIsExpired() throws Exception {
        JoinGroupResponseData j = joinAlone("expiring", (short) 9, 600);
        SyncGroupResponseData s = call(ApiKeys.SYNC_GROUP, (short) 5, new SyncGroupRequestData().setGroupId("expiring")
                .setMemberId(j.memberId()).setGenerationId(j.generationId()).setProtocolType("consumer")
                .setProtocolName("range"));
        assertThat(s.errorCode()).isZero();
        long deadline = System.nanoTime() + 20_000_000_000L;
        String state;
        do {
            assertThat(System.nanoTime()).as("member not expired in time").isLessThan(deadline);
            Thread.sleep(100);
            DescribeGroupsResponseData d = call(ApiKeys.DESCRIBE_GROUPS, (short) 5,
                    new DescribeGroupsRequestData().setGroups(List.of("expiring")));
            state = d.groups().get(0).groupState();
        } while (!state.equals("Dead") && !state.equals("Empty"));
        HeartbeatResponseData h = call(ApiKeys.HEARTBEAT, (short) 4, new HeartbeatRequestData().setGroupId("expiring")
                .setMemberId(j.memberId()).setGenerationId(j.generationId()));
        assertThat(Errors.forCode(h.errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void badRequestsGetKafkasErrorCodes() throws IOException {
        JoinGroupResponseData tooShort = call(ApiKeys.JOIN_GROUP, (short) 9, join("bad", "", 100, "consumer"));
        assertThat(Errors.forCode(tooShort.errorCode())).isEqualTo(Errors.INVALID_SESSION_TIMEOUT);
        JoinGroupResponseData noGroup = call(ApiKeys.JOIN_GROUP, (short) 9, join("", "", 10_000, "consumer"));
        assertThat(Errors.forCode(noGroup.errorCode())).isEqualTo(Errors.INVALID_GROUP_ID);
        JoinGroupResponseData unknown = call(ApiKeys.JOIN_GROUP, (short) 9, join("bad", "who-is-this", 10_000, "consumer"));
        assertThat(Errors.forCode(unknown.errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

        JoinGroupResponseData j = joinAlone("bad", (short) 9, 10_000);
        JoinGroupResponseData otherType = call(ApiKeys.JOIN_GROUP, (short) 9, join("bad", "", 10_000, "connect"));
        assertThat(Errors.forCode(otherType.errorCode())).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        SyncGroupResponseData oldGen = call(ApiKeys.SYNC_GROUP, (short) 5, new SyncGroupRequestData().setGroupId("bad")
                .setMemberId(j.memberId()).setGenerationId(j.generationId() + 5));
        assertThat(Errors.forCode(oldGen.errorCode())).isEqualTo(Errors.ILLEGAL_GENERATION);
        HeartbeatResponseData hb = call(ApiKeys.HEARTBEAT, (short) 4, new HeartbeatRequestData().setGroupId("nope")
                .setMemberId("x").setGenerationId(1));
        assertThat(Errors.forCode(hb.errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

        OffsetCommitRequestData.OffsetCommitRequestTopic t0 = new OffsetCommitRequestData.OffsetCommitRequestTopic()
                .setName("t").setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                        .setPartitionIndex(0).setCommittedOffset(1)));
        OffsetCommitResponseData beforeSync = call(ApiKeys.OFFSET_COMMIT, (short) 9, new OffsetCommitRequestData()
                .setGroupId("bad").setMemberId(j.memberId()).setGenerationIdOrMemberEpoch(j.generationId())
                .setTopics(List.of(t0)));
        assertThat(Errors.forCode(beforeSync.topics().get(0).partitions().get(0).errorCode()))
                .isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        SyncGroupResponseData synced = call(ApiKeys.SYNC_GROUP, (short) 5, new SyncGroupRequestData().setGroupId("bad")
                .setMemberId(j.memberId()).setGenerationId(j.generationId()));
        assertThat(synced.errorCode()).isZero();

        OffsetCommitResponseData c = call(ApiKeys.OFFSET_COMMIT, (short) 9, new OffsetCommitRequestData().setGroupId("bad")
                .setMemberId(j.memberId()).setGenerationIdOrMemberEpoch(j.generationId()).setTopics(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("missing").setPartitions(List.of(
                                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1))),
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t").setPartitions(List.of(
                                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1).setCommittedMetadata("x".repeat(5000)))))));
        assertThat(Errors.forCode(c.topics().get(0).partitions().get(0).errorCode()))
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        assertThat(Errors.forCode(c.topics().get(1).partitions().get(0).errorCode()))
                .isEqualTo(Errors.OFFSET_METADATA_TOO_LARGE);
        // a commit without member (as the admin client makes) to a group with members is refused
        OffsetCommitResponseData noMember = call(ApiKeys.OFFSET_COMMIT, (short) 9, new OffsetCommitRequestData()
                .setGroupId("bad").setTopics(List.of(t0)));
        assertThat(Errors.forCode(noMember.topics().get(0).partitions().get(0).errorCode()))
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        OffsetCommitResponseData stale = call(ApiKeys.OFFSET_COMMIT, (short) 9, new OffsetCommitRequestData()
                .setGroupId("bad").setMemberId(j.memberId()).setGenerationIdOrMemberEpoch(j.generationId() - 1)
                .setTopics(List.of(t0)));
        assertThat(Errors.forCode(stale.topics().get(0).partitions().get(0).errorCode()))
                .isEqualTo(Errors.ILLEGAL_GENERATION);

        FindCoordinatorResponseData txn = call(ApiKeys.FIND_COORDINATOR, (short) 4, new FindCoordinatorRequestData()
                .setKeyType((byte) 1).setCoordinatorKeys(List.of("tx")));
        assertThat(Errors.forCode(txn.coordinators().get(0).errorCode())).as("this node coordinates transactions")
                .isEqualTo(Errors.NONE);
        assertThat(txn.coordinators().get(0).nodeId()).isEqualTo(fx.broker.nodeId());
    }
}
