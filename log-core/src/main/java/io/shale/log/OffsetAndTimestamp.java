package io.shale.log;

/**
 * Answer of {@link LogStore#offsetForTimestamp}.
 *
 * @param offset the offset found
 * @param timestamp the timestamp of the record at that offset, or -1 for the earliest/latest
 *     special lookups
 */
public record OffsetAndTimestamp(long offset, long timestamp) {
}
