package io.shale.log.testing;

import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStore;

/**
 * Hands one object store to several store instances in turn (restarts, a second process): the
 * store instances own and close their object store, so this view ignores {@link #close()}.
 */
public final class SharedObjectStore extends ForwardingObjectStore {
    public SharedObjectStore(ObjectStore delegate) {
        super(delegate);
    }

    @Override
    public void close() {
        // owned by the test
    }
}
