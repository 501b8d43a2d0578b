package io.shale.log.spi;

import java.util.Objects;

/**
 * What {@link ObjectStore#head} and {@link ObjectStore#list} report about one object.
 *
 * @param key the key, relative to the store's root/prefix
 * @param size the object's length in bytes
 * @param lastModifiedMillis when the object was written, epoch milliseconds (store clock)
 * @param token the write token given to {@link ObjectStore#put} or {@link ObjectStore#putIfAbsent}
 *     for this object, or {@code null} if none was given or the store does not report it in
 *     listings ({@code head} always reports it)
 */
public record ObjectInfo(String key, long size, long lastModifiedMillis, String token) {
    public ObjectInfo {
        Objects.requireNonNull(key, "key");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + key);
        }
    }
}
