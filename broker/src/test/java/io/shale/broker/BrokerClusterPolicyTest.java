package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cluster's static broker list and the shares of the ownership policy (no database needed). */
class BrokerClusterPolicyTest {
    @Test
    void brokerListIsParsedAndBadEntriesAreNamed() {
        assertThat(BrokerCluster.parseBrokers("0@localhost:9092, 1@localhost:9093,2@10.0.0.3:9094")).containsExactly(
                Map.entry(0, new Placement.Broker(0, "localhost", 9092)),
                Map.entry(1, new Placement.Broker(1, "localhost", 9093)),
                Map.entry(2, new Placement.Broker(2, "10.0.0.3", 9094)));
        assertThatThrownBy(() -> BrokerCluster.parseBrokers("0@localhost")).hasMessageContaining("'0@localhost'")
                .hasMessageContaining("id@host:port");
        assertThatThrownBy(() -> BrokerCluster.parseBrokers("x@h:1")).hasMessageContaining("'x@h:1'");
        assertThatThrownBy(() -> BrokerCluster.parseBrokers("0@h:1,0@h:2")).hasMessageContaining("broker 0 twice");
        assertThatThrownBy(() -> BrokerCluster.parseBrokers("0@h:70000")).hasMessageContaining("port 1 to 65535");
        assertThatThrownBy(() -> BrokerCluster.parseBrokers(" ")).hasMessageContaining("cluster.brokers is empty");
    }

    @Test
    void sharesCoverEveryPartitionAndDifferByAtMostOne() {
        for (int live = 1; live <= 5; live++) {
            List<Integer> brokers = new java.util.ArrayList<>();
            for (int i = 0; i < live; i++) {
                brokers.add(i * 2); // ids need not be dense
            }
            for (int n = 0; n <= 13; n++) {
                for (String topic : List.of("events", "__shale_offsets", "t")) {
                    Map<Integer, Integer> share = BrokerCluster.shares(topic, n, brokers);
                    assertThat(share.keySet()).containsExactlyInAnyOrderElementsOf(brokers);
                    assertThat(share.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(n);
                    int max = share.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
                    int min = share.values().stream().mapToInt(Integer::intValue).min().orElseThrow();
                    assertThat(max - min).isLessThanOrEqualTo(1);
                }
            }
        }
        // one-partition topics land on different brokers (by their names), not all on the first one
        List<Integer> three = List.of(0, 1, 2);
        java.util.Set<Integer> holders = new java.util.HashSet<>();
        for (String t : List.of("a", "b", "c", "d", "e", "f", "g", "h")) {
            BrokerCluster.shares(t, 1, three).forEach((id, s) -> {
                if (s == 1) {
                    holders.add(id);
                }
            });
        }
        assertThat(holders).hasSizeGreaterThan(1);
    }

    /** The liveness probe: a broker that answers ApiVersions is up; a frozen one (accepts, never answers) and a closed port are not. */
    @Test
    void aBrokerIsUpOnlyIfItAnswers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (BrokerFixture fx = new BrokerFixture(dir)) {
            assertThat(BrokerCluster.answers(new Placement.Broker(0, "127.0.0.1", fx.broker.port()), false)).isTrue();
        }
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // accepts connections (the kernel's backlog) but never reads nor answers, like a SIGSTOPped process
            Placement.Broker frozen = new Placement.Broker(1, "127.0.0.1", silent.getLocalPort());
            assertThat(BrokerCluster.answers(frozen, false)).isFalse();
            assertThat(BrokerCluster.answers(frozen, true)).as("TLS listeners: a connect is all that is checked").isTrue();
        }
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        assertThat(BrokerCluster.answers(new Placement.Broker(2, "127.0.0.1", closed), false)).isFalse();
    }
}
