package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OffsetMapTest {
    private static ByteBuffer key(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theMapShouldAnswerTheNewestOffsetOfEveryKeyAsItGrows() {
        OffsetMap map = new OffsetMap(64L << 20);
        Map<String, Long> model = new HashMap<>();
        Random rnd = new Random(3);
        for (long offset = 0; offset < 50_000; offset++) {
            String k = "key-" + rnd.nextInt(20_000);
            map.put(key(k), offset);
            model.put(k, offset);
        }
        assertThat(map.size()).isEqualTo(model.size());
        assertThat(map.bytes()).as("it grew past its first arrays").isGreaterThan(1024L * OffsetMap.BYTES_PER_ENTRY);
        model.forEach((k, v) -> assertThat(map.get(key(k))).as(k).isEqualTo(v));
        assertThat(map.get(key("never-seen"))).isEqualTo(-1);
        ByteBuffer positioned = ByteBuffer.wrap("xxkey-1".getBytes(StandardCharsets.UTF_8)).position(2);
        assertThat(map.get(positioned)).as("the key is the buffer's remaining bytes").isEqualTo(model.getOrDefault("key-1", -1L));
        assertThat(positioned.position()).as("reading a key does not move it").isEqualTo(2);

        map.clear();
        assertThat(map.size()).isZero();
        assertThat(map.get(key("key-1"))).isEqualTo(-1);
    }

    @Test
    void theBudgetShouldBoundTheKeysExceptForTheFirstBatch() {
        OffsetMap map = new OffsetMap(0); // the smallest map: 1,024 slots, 768 keys
        assertThat(map.hasRoomFor(100_000)).as("an empty map takes any first batch").isTrue();
        for (int i = 0; i < 700; i++) {
            map.put(key("k" + i), i);
        }
        assertThat(map.hasRoomFor(68)).isTrue();
        assertThat(map.hasRoomFor(69)).isFalse();
        for (int i = 700; i < 2_000; i++) {
            map.put(key("k" + i), i); // a first batch larger than the budget still fits: the map grows
        }
        assertThat(map.get(key("k1999"))).isEqualTo(1_999);
        assertThat(map.get(key("k0"))).isZero();
    }
}
