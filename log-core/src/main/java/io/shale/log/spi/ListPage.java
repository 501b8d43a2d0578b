package io.shale.log.spi;

import java.util.List;
import java.util.Objects;

/**
 * One page of a listing, keys in ascending lexicographic (UTF-8 byte) order.
 *
 * @param objects the objects of this page (may be empty)
 * @param nextStartAfter the key to pass as {@code startAfter} for the next page, or {@code null}
 *     when the listing is complete
 */
public record ListPage(List<ObjectInfo> objects, String nextStartAfter) {
    public ListPage {
        objects = List.copyOf(Objects.requireNonNull(objects, "objects"));
    }

    public boolean isLast() {
        return nextStartAfter == null;
    }
}
