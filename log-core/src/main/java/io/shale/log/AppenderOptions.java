package io.shale.log;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link RecordAppender}, named after the Kafka producer settings they mirror.
 * Immutable; build with {@link #builder()}, or take {@link #defaults()}.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>setting</th><th>default</th><th>Kafka producer</th><th>meaning</th></tr>
 *   <tr><td>{@link Builder#batchBytes(int) batchBytes}</td><td>16384</td><td>{@code batch.size}</td>
 *       <td>a partition's batch is sent once its records' estimated size reaches this (capped by the
 *       topic's {@code max.message.bytes}); a record larger than this goes alone in its own batch</td></tr>
 *   <tr><td>{@link Builder#linger(Duration) linger}</td><td>5 ms</td><td>{@code linger.ms}</td>
 *       <td>a batch that is not full is sent this long after its first record was appended; 0 sends
 *       at once, batching only the records that arrive while the partition's previous batch is
 *       being handed to the store</td></tr>
 *   <tr><td>{@link Builder#bufferBytes(long) bufferBytes}</td><td>32 MiB</td><td>{@code buffer.memory}</td>
 *       <td>most bytes the appender holds for records not yet handed to the store</td></tr>
 *   <tr><td>{@link Builder#maxBlock(Duration) maxBlock}</td><td>60 s</td><td>{@code max.block.ms}</td>
 *       <td>longest time {@code append} waits for buffer space before failing its future, and the
 *       deadline of {@code flush()} and {@code close()}</td></tr>
 * </table>
 */
public final class AppenderOptions {

    /** Default {@code batchBytes}: 16 KiB, Kafka's {@code batch.size}. */
    public static final int DEFAULT_BATCH_BYTES = 16 * 1024;
    /** Default {@code linger}: 5 ms, Kafka's {@code linger.ms} since 4.0. */
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);
    /** Default {@code bufferBytes}: 32 MiB, Kafka's {@code buffer.memory}. */
    public static final long DEFAULT_BUFFER_BYTES = 32L << 20;
    /** Default {@code maxBlock}: 60 s, Kafka's {@code max.block.ms}. */
    public static final Duration DEFAULT_MAX_BLOCK = Duration.ofSeconds(60);

    private static final AppenderOptions DEFAULTS = builder().build();

    private final int batchBytes;
    private final Duration linger;
    private final long bufferBytes;
    private final Duration maxBlock;

    private AppenderOptions(Builder b) {
        this.batchBytes = b.batchBytes;
        this.linger = b.linger;
        this.bufferBytes = b.bufferBytes;
        this.maxBlock = b.maxBlock;
    }

    /** The defaults listed above. */
    public static AppenderOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        return new Builder().batchBytes(batchBytes).linger(linger).bufferBytes(bufferBytes).maxBlock(maxBlock);
    }

    public int batchBytes() {
        return batchBytes;
    }

    public Duration linger() {
        return linger;
    }

    public long bufferBytes() {
        return bufferBytes;
    }

    public Duration maxBlock() {
        return maxBlock;
    }

    @Override
    public String toString() {
        return "AppenderOptions{batchBytes=" + batchBytes + ", linger=" + linger + ", bufferBytes=" + bufferBytes
                + ", maxBlock=" + maxBlock + "}";
    }

    /**
     * Builds {@link AppenderOptions}. Setters check their argument at once and throw
     * {@link ShaleException} of kind {@code INVALID_ARGUMENT} naming the setting.
     */
    public static final class Builder {
        private int batchBytes = DEFAULT_BATCH_BYTES;
        private Duration linger = DEFAULT_LINGER;
        private long bufferBytes = DEFAULT_BUFFER_BYTES;
        private Duration maxBlock = DEFAULT_MAX_BLOCK;

        private Builder() {
        }

        /** Target size of a batch, in estimated record bytes: at least 1. */
        public Builder batchBytes(int batchBytes) {
            if (batchBytes < 1) {
                throw invalid("batchBytes must be at least 1, got " + batchBytes);
            }
            this.batchBytes = batchBytes;
            return this;
        }

        /** How long a batch that is not full waits for more records: zero or more, at most one hour. */
        public Builder linger(Duration linger) {
            if (linger == null || linger.isNegative() || linger.compareTo(Duration.ofHours(1)) > 0) {
                throw invalid("linger must be between 0 and 1 hour, got " + linger);
            }
            this.linger = linger;
            return this;
        }

        /** Bound on bytes buffered and not yet handed to the store: at least {@code batchBytes}. */
        public Builder bufferBytes(long bufferBytes) {
            if (bufferBytes < 1) {
                throw invalid("bufferBytes must be at least 1, got " + bufferBytes);
            }
            this.bufferBytes = bufferBytes;
            return this;
        }

        /** Longest blocking of {@code append} (buffer full), and the deadline of {@code flush()} and {@code close()}. */
        public Builder maxBlock(Duration maxBlock) {
            if (maxBlock == null || maxBlock.isNegative()) {
                throw invalid("maxBlock must be zero or more, got " + maxBlock);
            }
            this.maxBlock = maxBlock;
            return this;
        }

        /**
         * @throws ShaleException {@code INVALID_ARGUMENT} if {@code bufferBytes} is below {@code batchBytes}
         */
        public AppenderOptions build() {
            if (bufferBytes < batchBytes) {
                throw invalid("bufferBytes (" + bufferBytes + ") must be at least batchBytes (" + batchBytes + ")");
            }
            return new AppenderOptions(this);
        }

        private static ShaleException invalid(String message) {
            return new ShaleException(ErrorKind.INVALID_ARGUMENT, "appender options: " + message);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AppenderOptions other && batchBytes == other.batchBytes && bufferBytes == other.bufferBytes
                && linger.equals(other.linger) && maxBlock.equals(other.maxBlock);
    }

    @Override
    public int hashCode() {
        return Objects.hash(batchBytes, linger, bufferBytes, maxBlock);
    }
}
