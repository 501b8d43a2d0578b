package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BlockCacheTest {
    private static BlockCache.Block block(int size) {
        return new BlockCache.Block(ByteBuffer.allocate(size));
    }

    private static RemoteReader.BlockKey key(String object, long position) {
        return new RemoteReader.BlockKey(object, position);
    }

    @Test
    void theNewestBlockShouldAlwaysBeAdmittedAndTheLeastRecentlyUsedEvicted() {
        BlockCache cache = new BlockCache(300);
        cache.put(key("a", 0), block(100));
        cache.put(key("a", 100), block(100));
        cache.put(key("a", 200), block(100));
        assertThat(cache.get(key("a", 0))).isNotNull(); // now the most recently used
        cache.put(key("b", 0), block(100));
        assertThat(cache.get(key("a", 100))).isNull();
        assertThat(cache.contains(key("a", 0))).isTrue();
        assertThat(cache.contains(key("a", 200))).isTrue();
        assertThat(cache.contains(key("b", 0))).isTrue();
        assertThat(cache.weight()).isEqualTo(300);
    }

    @Test
    void weightShouldStayWithinTheLimitAndFollowReplacementsAndRemovals() {
        BlockCache cache = new BlockCache(250);
        cache.put(key("a", 0), block(200));
        cache.put(key("a", 0), block(50));
        assertThat(cache.weight()).isEqualTo(50);
        cache.put(key("a", 50), block(251)); // larger than the whole cache: not cached, nothing evicted
        assertThat(cache.contains(key("a", 50))).isFalse();
        assertThat(cache.weight()).isEqualTo(50);
        BlockCache.Block b = block(150);
        cache.put(key("b", 0), b);
        cache.put(key("b", 150), block(100)); // 300 > 250: the eldest goes
        assertThat(cache.weight()).isLessThanOrEqualTo(250);
        assertThat(cache.contains(key("a", 0))).isFalse();
        cache.remove(key("b", 0), block(150)); // another block under that key: kept
        assertThat(cache.contains(key("b", 0))).isTrue();
        cache.remove(key("b", 0), b);
        assertThat(cache.weight()).isEqualTo(100);
        cache.forget("b");
        assertThat(cache.weight()).isZero();
    }

    @Test
    void aZeroByteCacheShouldHoldNothing() {
        BlockCache cache = new BlockCache(0);
        cache.put(key("a", 0), block(1));
        assertThat(cache.weight()).isZero();
        assertThat(cache.get(key("a", 0))).isNull();
    }
}
