package io.shale.log.record;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

/**
 * The compression codecs of Kafka record batches (attributes bits 0-2), with Kafka's names.
 * {@code lz4} and {@code gzip} are always available; {@code snappy} and {@code zstd} need
 * {@code org.xerial.snappy:snappy-java} or {@code com.github.luben:zstd-jni} on the classpath.
 *
 * <p>Reading or building a batch with a codec whose library is missing fails with
 * {@code ShaleException(INVALID_ARGUMENT)} naming the artifact (not CORRUPT_RECORD: the bytes are
 * not damaged, and a caller must not discard them). Thread-safe; availability is probed once, on
 * first use of the codec.
 */
public enum CompressionType {
    NONE(0, "none"),
    GZIP(1, "gzip"),
    SNAPPY(2, "snappy"),
    LZ4(3, "lz4"),
    ZSTD(4, "zstd");

    /** The id stored in the batch attributes. */
    public final int id;
    /** Kafka's name, as used in {@code compression.type}. */
    public final String kafkaName;

    CompressionType(int id, String kafkaName) {
        this.id = id;
        this.kafkaName = kafkaName;
    }

    /** The codec with this attribute id; {@code ShaleException(CORRUPT_RECORD)} for ids 5-7. */
    public static CompressionType forId(int id) {
        switch (id) {
            case 0:
                return NONE;
            case 1:
                return GZIP;
            case 2:
                return SNAPPY;
            case 3:
                return LZ4;
            case 4:
                return ZSTD;
            default:
                throw new ShaleException(ErrorKind.CORRUPT_RECORD, "unknown compression codec id " + id);
        }
    }

    /** The codec with this Kafka name (case-insensitive); {@code ShaleException(INVALID_ARGUMENT)} if none. */
    public static CompressionType forName(String name) {
        if (name != null) {
            for (CompressionType t : values()) {
                if (t.kafkaName.equalsIgnoreCase(name)) {
                    return t;
                }
            }
        }
        throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                "unknown compression type '" + name + "' (expected none, gzip, snappy, lz4 or zstd)");
    }

    /** Whether the codec's library is on the classpath. */
    public boolean isAvailable() {
        return Codecs.isAvailable(this);
    }
}
