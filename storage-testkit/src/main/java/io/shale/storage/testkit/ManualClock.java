package io.shale.storage.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that stands still until a test moves it: retention, grace periods and record timestamps
 * then depend only on what the test did, never on how fast the machine ran. Thread-safe.
 *
 * <p>It starts at the wall-clock time of its creation so that times it reports are comparable
 * with the last-modified times object stores give their objects (orphan cleanup compares them).
 */
final class ManualClock extends Clock {
    private final AtomicLong millis;
    private final ZoneId zone;

    ManualClock(long startMillis) {
        this(new AtomicLong(startMillis), ZoneOffset.UTC);
    }

    private ManualClock(AtomicLong millis, ZoneId zone) {
        this.millis = millis;
        this.zone = zone;
    }

    /** Moves the clock forward and returns the new time. */
    long advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a clock only moves forward: " + by);
        }
        return millis.addAndGet(by.toMillis());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** The same clock (moved by the same {@link #advance} calls) seen in another zone. */
    @Override
    public Clock withZone(ZoneId zone) {
        return new ManualClock(millis, zone);
    }
}
