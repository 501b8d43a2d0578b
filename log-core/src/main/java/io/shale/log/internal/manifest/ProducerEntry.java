package io.shale.log.internal.manifest;

import java.util.ArrayList;
import java.util.List;

/**
 * What one partition remembers of one idempotent producer, as Kafka's {@code ProducerStateManager}
 * does: the producer's newest epoch and the metadata of its last {@value #MAX_BATCHES} batches in
 * that epoch (oldest first), enough to recognise a retried batch and to check that the next one
 * follows without a gap. Immutable: every change makes a new entry, so the engine can keep the
 * previous one to roll a failed append back, and the manifest can publish entries to readers.
 *
 * @param producerId the producer id (non-negative)
 * @param epoch the newest producer epoch seen (non-negative)
 * @param batches 1 to {@value #MAX_BATCHES} batches of that epoch, in append order
 */
public record ProducerEntry(long producerId, short epoch, List<Batch> batches) {
    /** How many batches per producer are remembered (Kafka's {@code NUM_BATCHES_TO_RETAIN}). */
    public static final int MAX_BATCHES = 5;

    /**
     * One appended batch of the producer.
     *
     * @param firstSeq the batch's base sequence
     * @param lastSeq its last sequence (wraps past {@code Integer.MAX_VALUE} to 0, as Kafka's does)
     * @param firstOffset the offset its first record got
     * @param lastOffset the offset its last record got
     * @param timestamp when the store appended it (epoch ms, the store's clock; for a batch
     *     recovered from the WAL, when it was recovered)
     */
    public record Batch(int firstSeq, int lastSeq, long firstOffset, long lastOffset, long timestamp) {
    }

    public ProducerEntry {
        if (producerId < 0 || epoch < 0 || batches.isEmpty() || batches.size() > MAX_BATCHES) {
            throw new IllegalArgumentException("producer " + producerId + " epoch " + epoch + " with "
                    + batches.size() + " batches");
        }
        batches = List.copyOf(batches);
    }

    /** The newest batch. */
    public Batch last() {
        return batches.get(batches.size() - 1);
    }

    /** When the newest batch was appended: what expiration compares with the clock. */
    public long lastTimestamp() {
        return last().timestamp();
    }

    /** The batch of this epoch with exactly these sequences (a retry of it), or null. */
    public Batch find(short batchEpoch, int firstSeq, int lastSeq) {
        if (batchEpoch != epoch) {
            return null;
        }
        for (Batch b : batches) {
            if (b.firstSeq() == firstSeq && b.lastSeq() == lastSeq) {
                return b;
            }
        }
        return null;
    }

    /**
     * This producer after {@code b} was appended with {@code batchEpoch}: a newer epoch forgets the
     * older epoch's batches, as Kafka does; the oldest batch is dropped beyond {@value #MAX_BATCHES}.
     */
    public ProducerEntry with(short batchEpoch, Batch b) {
        if (batchEpoch != epoch) {
            return new ProducerEntry(producerId, batchEpoch, List.of(b));
        }
        List<Batch> out = new ArrayList<>(MAX_BATCHES);
        int from = batches.size() == MAX_BATCHES ? 1 : 0;
        out.addAll(batches.subList(from, batches.size()));
        out.add(b);
        return new ProducerEntry(producerId, epoch, out);
    }

    /** A first entry for a producer. */
    public static ProducerEntry first(long producerId, short epoch, Batch b) {
        return new ProducerEntry(producerId, epoch, List.of(b));
    }
}
