package io.shale.log.spi;

import java.util.Map;
import java.util.Objects;

/**
 * Outcome of a batched {@link ObjectStore#delete}. Keys that did not exist count as deleted.
 *
 * @param failed keys that could not be deleted, each with the store's reason (e.g. "AccessDenied")
 */
public record DeleteResult(Map<String, String> failed) {
    private static final DeleteResult OK = new DeleteResult(Map.of());

    public DeleteResult {
        failed = Map.copyOf(Objects.requireNonNull(failed, "failed"));
    }

    public static DeleteResult ok() {
        return OK;
    }

    public boolean isComplete() {
        return failed.isEmpty();
    }
}
