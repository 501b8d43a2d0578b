package io.shale.catalog.postgres;

import io.shale.log.StoreConfig;
import io.shale.log.internal.manifest.Catalog;
import io.shale.log.internal.manifest.EngineCatalogFactory;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.ObjectStore;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Test only: the PostgreSQL catalog of a store whose "process" the contract suite can crash. The
 * suite simulates a crash by making the store's object-store handle fail every call; a dead
 * process cannot reach its database either, so before each write or fencing check this catalog
 * makes one HEAD through the store's handle ({@code manifest/process-alive}, never written) and
 * fails the same way if the handle is dead.
 */
final class ProcessBoundCatalog implements Catalog {
    private static final String PROBE = "manifest/process-alive";
    private final PgCatalog delegate;
    private final ObjectStore store;

    private ProcessBoundCatalog(PgCatalog delegate, ObjectStore store) {
        this.delegate = delegate;
        this.store = store;
    }

    static EngineCatalogFactory factory(PostgresCatalogOptions options) {
        return new EngineCatalogFactory() {
            @Override
            public Catalog open(ObjectStore store, Clock clock, StoreConfig config, boolean readOnly) {
                return new ProcessBoundCatalog(PgCatalog.open(options, store, clock, readOnly), store);
            }

            @Override
            public String describe() {
                return options.describe() + " (test: bound to its process)";
            }
        };
    }

    private void alive() {
        StoreCalls.await(store.head(PROBE), "test: checking that the store's process is alive");
    }

    @Override
    public Object lock() {
        return delegate.lock();
    }

    @Override
    public ManifestState state() {
        return delegate.state();
    }

    @Override
    public void load(ManifestState.Listener listener) {
        delegate.load(listener);
    }

    @Override
    public long claimWriter() {
        alive();
        return delegate.claimWriter();
    }

    @Override
    public long writerEpoch() {
        return delegate.writerEpoch();
    }

    @Override
    public void commit(List<ManifestOp> ops, String token) {
        alive();
        delegate.commit(ops, token);
    }

    @Override
    public CompletableFuture<Void> checkNotFenced() {
        return store.head(PROBE).thenCompose(ignored -> delegate.checkNotFenced());
    }

    @Override
    public Set<String> objectsOfUnresolvedCommits() {
        return delegate.objectsOfUnresolvedCommits();
    }

    @Override
    public boolean isFenced() {
        return delegate.isFenced();
    }

    @Override
    public boolean refresh() {
        alive();
        return delegate.refresh();
    }

    @Override
    public void maintain() {
        delegate.maintain();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
