package io.shale.reliability.sim;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One node's client of the simulated bucket. Every request takes two legs of latency; a write
 * lands (changes the bucket) at the end of the first, and the answer arrives at the end of the
 * second. Faults: a request refused (TRANSIENT or THROTTLED), an answer lost after the write
 * landed, a write that lands only after the caller was told it failed. Conditional creates are
 * decided when they land. Answers belong to the node (a killed node hears nothing); landings
 * belong to nobody (a request that left the machine lands anyway).
 */
final class SimObjectStore implements ObjectStore {
    /** The shared bucket. Keys are ASCII here, so String order is the SPI's UTF-8 order. */
    static final class Bucket {
        record Obj(byte[] bytes, long lastModifiedMillis, String token) {
        }

        final TreeMap<String, Obj> objects = new TreeMap<>();
        long puts;
        long gets;
        long lists;
        long deletes;
    }

    private final Sim sim;
    private final SimNode node;
    private final Bucket bucket;
    private final SimFaults faults;
    private boolean closed;

    SimObjectStore(Sim sim, SimNode node, Bucket bucket, SimFaults faults) {
        this.sim = sim;
        this.node = node;
        this.bucket = bucket;
        this.faults = faults;
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        byte[] bytes = payload.toByteArray();
        return write("put", key, () -> {
            bucket.puts++;
            bucket.objects.put(key, new Bucket.Obj(bytes, sim.millis(), token));
            return null;
        });
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        byte[] bytes = payload.toByteArray();
        return write("putIfAbsent", key, () -> {
            bucket.puts++;
            if (bucket.objects.containsKey(key)) {
                return false;
            }
            bucket.objects.put(key, new Bucket.Obj(bytes, sim.millis(), token));
            return true;
        });
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        return read("get", key, () -> {
            bucket.gets++;
            Bucket.Obj o = bucket.objects.get(key);
            if (o == null) {
                throw new ObjectStoreException(ObjectStoreException.Reason.NOT_FOUND, key, "no such object " + key);
            }
            int from = (int) Math.min(offset, o.bytes().length);
            int to = length < 0 ? o.bytes().length : (int) Math.min(o.bytes().length, offset + length);
            ByteBuffer b = ByteBuffer.allocate(Math.max(0, to - from));
            b.put(o.bytes(), from, Math.max(0, to - from)).flip();
            return b;
        });
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return read("head", key, () -> {
            bucket.gets++;
            Bucket.Obj o = bucket.objects.get(key);
            return o == null ? Optional.empty()
                    : Optional.of(new ObjectInfo(key, o.bytes().length, o.lastModifiedMillis(), o.token()));
        });
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be at least 1");
        }
        return read("list", prefix, () -> {
            bucket.lists++;
            int size = faults.pageSize(maxKeys);
            long visibleBefore = sim.millis() - faults.listLagMillis;
            String from = startAfter == null || startAfter.compareTo(prefix) < 0 ? prefix : startAfter;
            List<ObjectInfo> out = new ArrayList<>();
            String last = startAfter;
            boolean more = false;
            for (Map.Entry<String, Bucket.Obj> e : bucket.objects.tailMap(from, !from.equals(startAfter)).entrySet()) {
                if (!e.getKey().startsWith(prefix)) {
                    break;
                }
                if (out.size() >= size) {
                    more = true;
                    break;
                }
                last = e.getKey();
                Bucket.Obj o = e.getValue();
                if (faults.listLagMillis > 0 && !faults.healed && o.lastModifiedMillis() > visibleBefore) {
                    continue; // not listed yet
                }
                out.add(new ObjectInfo(e.getKey(), o.bytes().length, o.lastModifiedMillis(), o.token()));
            }
            // a short page says where to go on even if it is empty
            return new ListPage(out, more ? (last == null ? prefix : last) : null);
        });
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        List<String> copy = List.copyOf(keys);
        return write("delete", copy.isEmpty() ? "" : copy.get(0), () -> {
            bucket.deletes++;
            for (String k : copy) {
                bucket.objects.remove(k);
            }
            return new DeleteResult(new HashMap<>());
        });
    }

    @Override
    public String describe() {
        return "sim://bucket";
    }

    @Override
    public void close() {
        closed = true;
    }

    // ------------------------------------------------------------------ requests

    private <T> CompletableFuture<T> write(String op, String key, Supplier<T> landing) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("sim store closed"));
        }
        SimFaults.Outcome o = faults.write();
        long there = faults.latencyNanos();
        long back = faults.latencyNanos();
        String label = node.name + "/" + op + " " + key;
        switch (o) {
            case OK -> sim.schedule(Sim.Kind.WORLD, null, there, "land " + label, () -> {
                T value;
                try {
                    value = landing.get();
                } catch (RuntimeException e) {
                    sim.schedule(Sim.Kind.WORLD, node, back, "answer " + label, () -> answer.completeExceptionally(e));
                    return;
                }
                sim.schedule(Sim.Kind.WORLD, node, back, "answer " + label, () -> answer.complete(value));
            });
            case LOST_ANSWER -> {
                sim.schedule(Sim.Kind.WORLD, null, there, "land " + label, landing::get);
                fail(answer, there + back, label, ObjectStoreException.Reason.TRANSIENT, "answer lost (the write landed)");
            }
            case LANDS_LATE -> {
                fail(answer, there, label, ObjectStoreException.Reason.TRANSIENT, "timed out (the write lands later)");
                sim.schedule(Sim.Kind.WORLD, null, there + faults.lateLandingNanos(), "late land " + label, landing::get);
            }
            case TRANSIENT -> fail(answer, there + back, label, ObjectStoreException.Reason.TRANSIENT, "injected 500");
            case THROTTLED -> fail(answer, there + back, label, ObjectStoreException.Reason.THROTTLED, "injected 503 SlowDown");
            default -> throw new IllegalStateException(o.toString());
        }
        return answer;
    }

    private <T> CompletableFuture<T> read(String op, String key, Supplier<T> result) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("sim store closed"));
        }
        CompletableFuture<T> answer = new CompletableFuture<>();
        SimFaults.Outcome o = faults.read();
        long there = faults.latencyNanos();
        long back = faults.latencyNanos();
        String label = node.name + "/" + op + " " + key;
        if (o != SimFaults.Outcome.OK) {
            fail(answer, there + back, label, o == SimFaults.Outcome.THROTTLED ? ObjectStoreException.Reason.THROTTLED
                    : ObjectStoreException.Reason.TRANSIENT, "injected " + o);
            return answer;
        }
        sim.schedule(Sim.Kind.WORLD, node, there, "read " + label, () -> {
            T value;
            try {
                value = result.get();
            } catch (RuntimeException e) {
                sim.schedule(Sim.Kind.WORLD, node, back, "answer " + label, () -> answer.completeExceptionally(e));
                return;
            }
            sim.schedule(Sim.Kind.WORLD, node, back, "answer " + label, () -> answer.complete(value));
        });
        return answer;
    }

    private void fail(CompletableFuture<?> answer, long delay, String label, ObjectStoreException.Reason reason, String why) {
        sim.schedule(Sim.Kind.WORLD, node, delay, "fail " + label, () -> answer.completeExceptionally(
                new ObjectStoreException(reason, null, "simulated " + why)));
    }
}
