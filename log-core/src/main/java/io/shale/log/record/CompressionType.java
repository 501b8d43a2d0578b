package io.shale.log.record;

/**
 * The compression codecs of Kafka record batches (attributes bits 0-2), with Kafka's names.
 * {@code lz4} and {@code gzip} are always available; {@code snappy} and {@code zstd} need
 * {@code org.xerial.snappy:snappy-java} or {@code com.github.luben:zstd-jni} on the classpath.
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
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /** The codec with this Kafka name (case-insensitive); {@code ShaleException(INVALID_ARGUMENT)} if none. */
    public static CompressionType forName(String name) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /** Whether the codec's library is on the classpath. */
    public boolean isAvailable() {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }
}
