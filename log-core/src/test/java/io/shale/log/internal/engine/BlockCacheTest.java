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

    @Test
    void aBlocksFirstUseShouldNotMoveItAheadOfBlocksFetchedAfterIt() {
        BlockCache cache = new BlockCache(300);
        BlockCache.Block first = block(100);
        cache.put(key("a", 0), first);
        cache.put(key("a", 100), block(100));
        cache.put(key("a", 200), block(100));
        assertThat(cache.getForUse(key("a", 0))).isSameAs(first); // first use (not verified yet): stays eldest
        first.verified = true;
        cache.put(key("b", 0), block(100));
        assertThat(cache.contains(key("a", 0))).isFalse();
        assertThat(cache.contains(key("a", 100))).isTrue();

        BlockCache.Block used = cache.getForUse(key("a", 100));
        used.verified = true;
        assertThat(cache.getForUse(key("a", 100))).isSameAs(used); // used before: now the most recent
        cache.put(key("b", 100), block(100));
        assertThat(cache.contains(key("a", 100))).isTrue();
        assertThat(cache.contains(key("a", 200))).isFalse();
    }

    @Test
    void everyBlockLeavingTheCacheShouldBeReported() {
        java.util.List<BlockCache.Block> dropped = new java.util.ArrayList<>();
        BlockCache cache = new BlockCache(200, dropped::add);
        BlockCache.Block a = block(100);
        BlockCache.Block b = block(100);
        BlockCache.Block c = block(100);
        cache.put(key("a", 0), a);
        cache.put(key("a", 0), b); // replaced
        cache.put(key("a", 100), c);
        cache.put(key("a", 200), block(100)); // evicts b
        cache.remove(key("a", 100), c);
        cache.forget("a");
        assertThat(dropped).hasSize(4).startsWith(a, b, c);
    }
}
