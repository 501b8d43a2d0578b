package io.shale.log.record;

/**
 * Byte layout of a Kafka record batch, magic 2 (big-endian), the format Shale stores byte for byte.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      baseOffset (int64)                       |  0
 * +---------------------------------------------------------------+
 * |             length (int32): bytes after this field            |  8
 * +---------------------------------------------------------------+
 * |                 partitionLeaderEpoch (int32)                  | 12
 * +---------------+-----------------------------------------------+
 * |  magic (=2)   |               crc (uint32, CRC-32C)           | 16
 * +---------------+---------------+-------------------------------+
 * |  crc (cont.)  | attributes (int16)            |               | 21
 * +---------------+-------------------------------+               |
 * |                lastOffsetDelta (int32)                        | 23
 * |                baseTimestamp (int64)                          | 27
 * |                maxTimestamp (int64)                           | 35
 * |                producerId (int64)                             | 43
 * |                producerEpoch (int16)                          | 51
 * |                baseSequence (int32)                           | 53
 * |                recordsCount (int32)                           | 57
 * +---------------------------------------------------------------+
 * |  records ...                                                  | 61
 * </pre>
 *
 * <p>The CRC covers attributes to the end of the batch, so {@code baseOffset} (and
 * {@code partitionLeaderEpoch}) can be stamped in place without recomputing it.
 *
 * <p>Attributes: bits 0-2 compression ({@link CompressionType}), bit 3 timestamp type
 * (1 = LogAppendTime), bit 4 transactional, bit 5 control, bit 6 delete horizon set.
 *
 * <p>Each record: length (varint), attributes (int8), timestampDelta (varlong), offsetDelta
 * (varint), keyLength (varint, -1 = null), key, valueLength (varint, -1 = null), value,
 * headerCount (varint), then per header: keyLength (varint), key (UTF-8), valueLength (varint,
 * -1 = null), value. Varints are zig-zag encoded as in protobuf.
 */
public final class RecordBatchLayout {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    /** Bytes before the length field's content starts: baseOffset + length. */
    public static final int LOG_OVERHEAD = 12;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    /** The CRC covers bytes from here to the end of the batch. */
    public static final int CRC_COVERED_START = ATTRIBUTES_OFFSET;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORDS_COUNT_OFFSET = 57;
    /** Size of the batch header; the first record starts here. */
    public static final int HEADER_SIZE = 61;

    public static final byte MAGIC = 2;

    public static final int COMPRESSION_CODEC_MASK = 0x07;
    public static final int TIMESTAMP_TYPE_MASK = 0x08;
    public static final int TRANSACTIONAL_FLAG_MASK = 0x10;
    public static final int CONTROL_FLAG_MASK = 0x20;
    public static final int DELETE_HORIZON_FLAG_MASK = 0x40;

    /** Kafka's value for "no producer id" / "no epoch" / "no sequence" / "no timestamp". */
    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;
    public static final long NO_TIMESTAMP = -1L;

    private RecordBatchLayout() {
    }
}
