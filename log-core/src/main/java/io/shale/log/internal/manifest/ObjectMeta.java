package io.shale.log.internal.manifest;

/**
 * A data object the manifest knows. Identity matters: ranges point at the instance.
 *
 * @param key object key
 * @param size total size in bytes
 * @param indexPosition where the index starts (index + footer run to the end)
 * @param kind {@link #KIND_MULTI} (an upload or a merge of uploads: many partitions) or
 *     {@link #KIND_SEGMENT} (one partition, compacted)
 * @param createdAtMs when it was committed (writer's clock)
 */
public record ObjectMeta(String key, long size, long indexPosition, int kind, long createdAtMs) {
    public static final int KIND_MULTI = 0;
    public static final int KIND_SEGMENT = 1;

    public boolean isSegment() {
        return kind == KIND_SEGMENT;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectMeta m && m.key.equals(key);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }
}
