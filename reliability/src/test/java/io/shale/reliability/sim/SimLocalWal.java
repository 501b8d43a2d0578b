package io.shale.reliability.sim;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.spi.WalReplayHandler;
import io.shale.log.spi.WriteAheadLog;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A write-ahead log on a simulated host's local disk, with the semantics of the file WAL: one
 * lock per directory, group commit (one "fsync" event per group), entries acknowledged in
 * sequence order once their group is durable, a failed group whose bytes may or may not have
 * reached the disk, and a crash that keeps a prefix of what was written but not yet synced.
 * The disk ({@link SimHost}) outlives the store instance; another host cannot see it.
 */
final class SimLocalWal implements WriteAheadLog {
    private final Sim sim;
    private final SimNode node;
    private final SimFaults faults;
    private final SimHost host;
    private final List<Pending> pending = new ArrayList<>();
    private boolean syncScheduled;
    private boolean appended;
    private boolean closed;

    private record Pending(WalEntry entry, SimHost.Stored stored) {
    }

    SimLocalWal(Sim sim, SimNode node, SimFaults faults) {
        this.sim = sim;
        this.node = node;
        this.faults = faults;
        this.host = node.host;
        node.onKill(this::crash);
    }

    @Override
    public void open(WalContext context) {
        SimNode holder = host.walLockHolder;
        if (holder != null && holder.alive && holder != node) {
            throw new ShaleException(ErrorKind.IN_USE, "WAL on " + host.name + " is locked by " + holder);
        }
        host.walLockHolder = node;
    }

    @Override
    public void replay(WalReplayHandler handler) {
        if (appended) {
            throw new IllegalStateException("replay after append");
        }
        for (SimHost.Stored s : new ArrayList<>(host.durable)) {
            handler.onEntry(s.sequence(), s.streamId(), s.baseOffset(), ByteBuffer.wrap(s.payload()).asReadOnlyBuffer());
        }
    }

    @Override
    public long append(WalEntry entry) {
        if (closed) {
            throw new ShaleException(ErrorKind.CLOSED, "sim WAL closed");
        }
        appended = true;
        ByteBuffer p = entry.payload();
        byte[] bytes = new byte[p.remaining()];
        p.duplicate().get(bytes);
        long seq = host.nextSequence++;
        pending.add(new Pending(entry, new SimHost.Stored(seq, entry.streamId(), entry.baseOffset(), bytes)));
        if (!syncScheduled) {
            syncScheduled = true;
            sim.schedule(Sim.Kind.WORLD, node, faults.walSyncNanos(), node.name + "/wal-sync", this::sync);
        }
        return seq;
    }

    /** One group: everything pending becomes durable, or the group fails (its bytes may have landed). */
    private void sync() {
        syncScheduled = false;
        List<Pending> group = new ArrayList<>(pending);
        pending.clear();
        if (group.isEmpty()) {
            return;
        }
        if (faults.walGroupFails()) {
            boolean landed = faults.failedGroupLanded();
            if (landed) {
                group.forEach(g -> host.durable.add(g.stored()));
            }
            for (Pending g : group) {
                g.entry().onFailure(new ShaleException(ErrorKind.UNAVAILABLE, "simulated fsync failure on " + host.name
                        + (landed ? " (the bytes reached the disk)" : "")));
            }
            return;
        }
        group.forEach(g -> host.durable.add(g.stored()));
        for (Pending g : group) {
            g.entry().onDurable();
        }
    }

    /** The process died: a prefix of what was written but not synced survives. */
    private void crash() {
        int keep = pending.isEmpty() ? 0 : sim.rng().nextInt(pending.size() + 1);
        for (int i = 0; i < keep; i++) {
            host.durable.add(pending.get(i).stored());
        }
        pending.clear();
        closed = true;
        if (host.walLockHolder == node) {
            host.walLockHolder = null;
        }
    }

    @Override
    public long nextSequence() {
        return host.nextSequence;
    }

    @Override
    public void trim(long sequence) {
        host.durable.removeIf(s -> s.sequence() < sequence);
    }

    @Override
    public String describe() {
        return "sim-wal:" + host.name;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!pending.isEmpty()) {
            sync();
        }
        if (host.walLockHolder == node) {
            host.walLockHolder = null;
        }
    }
}
