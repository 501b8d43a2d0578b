package io.shale.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicConfigOverrideTest {

    @Test
    void aKeyMappedToNullLosesItsOverrideAndReadsItsDefaultAgain() {
        TopicConfig c = TopicConfig.of(Map.of(TopicConfig.RETENTION_MS, 1000, TopicConfig.MAX_MESSAGE_BYTES, 2048));
        Map<String, Object> change = new HashMap<>();
        change.put(TopicConfig.RETENTION_MS, null);
        change.put(TopicConfig.SEGMENT_MS, 5000);
        TopicConfig altered = c.with(change);
        assertThat(altered.overrides()).containsOnlyKeys(TopicConfig.MAX_MESSAGE_BYTES, TopicConfig.SEGMENT_MS);
        assertThat(altered.retentionMs()).isEqualTo(TopicConfig.defaults().retentionMs());
        assertThat(altered.segmentMs()).isEqualTo(5000);
        // removing a key that was not overridden changes nothing
        Map<String, Object> again = new HashMap<>();
        again.put(TopicConfig.RETENTION_MS, null);
        assertThat(altered.with(again)).isEqualTo(altered);
    }

    @Test
    void removingAnUnknownKeyFailsNamingIt() {
        Map<String, Object> change = new HashMap<>();
        change.put("retention.msx", null);
        assertThatThrownBy(() -> TopicConfig.defaults().with(change))
                .isInstanceOf(ShaleException.class).hasMessageContaining("retention.msx");
    }
}
