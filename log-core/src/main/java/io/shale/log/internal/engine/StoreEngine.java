package io.shale.log.internal.engine;

import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import java.time.Clock;

/** The log engine behind {@link LogStore}. */
public final class StoreEngine {
    private StoreEngine() {
    }

    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config) {
        throw new UnsupportedOperationException("engine under construction");
    }
}
