package io.shale.log.record;

/** Kafka's timestamp types (attributes bit 3). */
public enum TimestampType {
    /** The producer set each record's timestamp. */
    CREATE_TIME("CreateTime"),
    /** The log stamped the batch's max timestamp when it appended it. */
    LOG_APPEND_TIME("LogAppendTime");

    /** Kafka's name, as used in {@code message.timestamp.type}. */
    public final String kafkaName;

    TimestampType(String kafkaName) {
        this.kafkaName = kafkaName;
    }
}
