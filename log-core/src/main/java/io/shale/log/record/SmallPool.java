package io.shale.log.record;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A small bounded pool of expensive, reusable codec state (zstd decompression contexts, zlib
 * inflaters): creating one costs far more than decoding a small batch with it. Lock-free slots;
 * {@link #borrow} takes any pooled object or creates one, {@link #release} puts it back or, when
 * every slot is taken, disposes of it. So at most {@code slots} objects are ever kept, and an
 * object is always either pooled, in use by exactly one thread, or disposed: native memory cannot
 * leak through the pool.
 *
 * <p>Thread-safe.
 */
final class SmallPool<T> {
    private final AtomicReferenceArray<T> slots;
    private final Supplier<T> factory;
    private final Consumer<T> disposer;

    SmallPool(int slots, Supplier<T> factory, Consumer<T> disposer) {
        this.slots = new AtomicReferenceArray<>(slots);
        this.factory = factory;
        this.disposer = disposer;
    }

    static int defaultSlots() {
        return Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    }

    T borrow() {
        for (int i = 0; i < slots.length(); i++) {
            T t = slots.getAndSet(i, null);
            if (t != null) {
                return t;
            }
        }
        return factory.get();
    }

    void release(T t) {
        for (int i = 0; i < slots.length(); i++) {
            if (slots.get(i) == null && slots.compareAndSet(i, null, t)) {
                return;
            }
        }
        disposer.accept(t);
    }
}
