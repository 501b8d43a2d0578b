package io.shale.reliability.sim;

import java.util.ArrayList;
import java.util.List;

/** A simulated machine's local disk: what its WAL made durable survives its processes. */
final class SimHost {
    /** One WAL entry on disk. */
    record Stored(long sequence, int streamId, long baseOffset, byte[] payload) {
    }

    final String name;
    final List<Stored> durable = new ArrayList<>();
    long nextSequence = 1;
    SimNode walLockHolder;
    /** A writer on another host took the store over: this disk is never replayed again. */
    boolean abandoned;

    SimHost(String name) {
        this.name = name;
    }
}
