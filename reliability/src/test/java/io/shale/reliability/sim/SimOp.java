package io.shale.reliability.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One step of a simulated history. Steps name topics and partitions by small indexes and are
 * valid in any state (a step that does not apply does nothing), so any sub-list of a history is a
 * history too: that is what lets a failing one shrink. Each step carries its own seed for the
 * random choices made while it runs (values, store latencies and faults), so removing a step does
 * not change the faults the others meet.
 */
sealed interface SimOp {
    long seed();

    record Append(long seed, int topic, int partition, int records, int valueBytes, boolean batchApi) implements SimOp {
    }

    /** Many appends at once, without waiting: memory pressure and uploads under load. */
    record Burst(long seed, int topic, int appends, int valueBytes) implements SimOp {
    }

    record CreateTopic(long seed, int topic, int partitions, long retentionMs, boolean compact) implements SimOp {
    }

    record DeleteTopic(long seed, int topic) implements SimOp {
    }

    record AddPartitions(long seed, int topic, int add) implements SimOp {
    }

    record AlterRetention(long seed, int topic, long retentionMs) implements SimOp {
    }

    record AlterCleanupPolicy(long seed, int topic, String policy) implements SimOp {
    }

    record DeleteRecords(long seed, int topic, int partition, int percent) implements SimOp {
    }

    /** Reads every partition through the writer and checks it against the model. */
    record Verify(long seed) implements SimOp {
    }

    record Poll(long seed, int topic, int partition, long waitMs) implements SimOp {
    }

    record OffsetForTime(long seed, int topic, int partition, int percent) implements SimOp {
    }

    record Flush(long seed, long timeoutMs) implements SimOp {
    }

    record Advance(long seed, long millis) implements SimOp {
    }

    record Storm(long seed, long millis) implements SimOp {
    }

    /** The local disk fails fsyncs for a while (their bytes may or may not reach it). */
    record DiskTrouble(long seed, long millis) implements SimOp {
    }

    /** SIGKILL of the writer. */
    record Crash(long seed) implements SimOp {
    }

    record Close(long seed) implements SimOp {
    }

    /** Opens a writer on the current host (after a crash or close), with a log cache of this size. */
    record Reopen(long seed, int cacheMiB) implements SimOp {
    }

    /** A writer on another machine claims the store while the current one is still running. */
    record Takeover(long seed, int cacheMiB) implements SimOp {
    }

    /** An append through the newest writer that was taken over (a zombie that may not know yet). */
    record ZombieAppend(long seed, int topic, int partition) implements SimOp {
    }

    record KillZombies(long seed) implements SimOp {
    }

    /** A second open on the running writer's machine: must fail (IN_USE) without fencing it. */
    record OpenAgainOnSameHost(long seed) implements SimOp {
    }

    record ReaderOpen(long seed) implements SimOp {
    }

    /** The read-only store catches up (refresh) and is checked against the model. */
    record ReaderCheck(long seed) implements SimOp {
    }

    record ReaderClose(long seed) implements SimOp {
    }

    /** A history of {@code length} steps drawn from {@code random}. */
    static List<SimOp> history(Random random, int length) {
        List<SimOp> ops = new ArrayList<>();
        ops.add(new CreateTopic(random.nextLong(), 0, 1 + random.nextInt(3), -1, false));
        ops.add(new CreateTopic(random.nextLong(), 1, 1 + random.nextInt(3), random.nextInt(4) == 0 ? 60_000 : -1,
                random.nextInt(3) == 0));
        for (int i = 0; i < length; i++) {
            ops.add(next(random));
        }
        return ops;
    }

    private static SimOp next(Random r) {
        long seed = r.nextLong();
        int topic = r.nextInt(4);
        int partition = r.nextInt(4);
        int x = r.nextInt(1000);
        if (x < 300) {
            return new Append(seed, topic, partition, 1 + r.nextInt(5), r.nextInt(4) == 0 ? 2_000 + r.nextInt(20_000)
                    : 10 + r.nextInt(500), r.nextBoolean());
        }
        if (x < 340) {
            return new Burst(seed, topic, 10 + r.nextInt(120), 1_000 + r.nextInt(20_000));
        }
        if (x < 420) {
            return new Advance(seed, r.nextInt(10) == 0 ? 1_000 + r.nextInt(120_000) : 1 + r.nextInt(300));
        }
        if (x < 470) {
            return new Verify(seed);
        }
        if (x < 490) {
            return new CreateTopic(seed, topic, 1 + r.nextInt(3), r.nextInt(4) == 0 ? 1_000 + r.nextInt(60_000) : -1,
                    r.nextInt(4) == 0);
        }
        if (x < 500) {
            return new DeleteTopic(seed, topic);
        }
        if (x < 510) {
            return new AddPartitions(seed, topic, 1 + r.nextInt(2));
        }
        if (x < 515) {
            return new AlterRetention(seed, topic, r.nextBoolean() ? -1 : 1_000 + r.nextInt(60_000));
        }
        if (x < 520) {
            String[] policies = {"delete", "compact", "compact,delete"};
            return new AlterCleanupPolicy(seed, topic, policies[r.nextInt(policies.length)]);
        }
        if (x < 535) {
            return new DeleteRecords(seed, topic, partition, r.nextInt(101));
        }
        if (x < 555) {
            return new Poll(seed, topic, partition, 1 + r.nextInt(500));
        }
        if (x < 570) {
            return new OffsetForTime(seed, topic, partition, r.nextInt(101));
        }
        if (x < 600) {
            return new Flush(seed, 1_000 + r.nextInt(30_000));
        }
        if (x < 605) {
            return new Storm(seed, 100 + r.nextInt(r.nextBoolean() ? 5_000 : 15_000));
        }
        if (x < 610) {
            return new DiskTrouble(seed, 10 + r.nextInt(3_000));
        }
        if (x < 640) {
            return new Crash(seed);
        }
        if (x < 660) {
            return new Close(seed);
        }
        if (x < 720) {
            return new Reopen(seed, r.nextInt(3) == 0 ? 64 : 1 + r.nextInt(3));
        }
        if (x < 740) {
            return new Takeover(seed, r.nextInt(3) == 0 ? 64 : 1 + r.nextInt(3));
        }
        if (x < 770) {
            return new ZombieAppend(seed, topic, partition);
        }
        if (x < 780) {
            return new KillZombies(seed);
        }
        if (x < 790) {
            return new OpenAgainOnSameHost(seed);
        }
        if (x < 805) {
            return new ReaderOpen(seed);
        }
        if (x < 840) {
            return new ReaderCheck(seed);
        }
        if (x < 850) {
            return new ReaderClose(seed);
        }
        return new Append(seed, topic, partition, 1, 10 + r.nextInt(100), false);
    }
}
