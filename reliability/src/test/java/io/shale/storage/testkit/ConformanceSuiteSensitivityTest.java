package io.shale.storage.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.testing.InMemoryObjectStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The listing and delete tests of {@link ObjectStoreConformanceTest} must be able to fail: each is
 * run here against a correct store (it passes) and against stores broken the way real ones get
 * broken (it fails). The broken stores wrap the engine's {@link InMemoryObjectStore} and change
 * one rule each.
 */
class ConformanceSuiteSensitivityTest {

    /** A conformance run over one store factory, its tests callable one at a time. */
    private static final class Run extends ObjectStoreConformanceTest {
        private final Supplier<ObjectStore> factory;

        Run(Supplier<ObjectStore> factory) {
            this.factory = factory;
        }

        @Override
        protected ObjectStore createStore() {
            return factory.get();
        }
    }

    @FunctionalInterface
    private interface SuiteTest {
        void run(ObjectStoreConformanceTest suite) throws Exception;
    }

    private static Throwable outcome(Supplier<ObjectStore> factory, SuiteTest test) throws Exception {
        Run run = new Run(factory);
        run.openStoreUnderTest();
        try {
            return catchThrowable(() -> test.run(run));
        } finally {
            run.closeStoresUnderTest();
        }
    }

    private static void assertCatches(Supplier<ObjectStore> broken, SuiteTest test) throws Exception {
        assertThatCode(() -> {
            Throwable correct = outcome(InMemoryObjectStore::new, test);
            if (correct != null) {
                throw correct;
            }
        }).as("the test passes against a correct store").doesNotThrowAnyException();
        assertThat(outcome(broken, test)).as("the test fails against the broken store").isInstanceOf(AssertionError.class);
    }

    private static final Comparator<String> UTF8 = ObjectStoreConformanceTest.UTF8;

    // ---------------------------------------------------------------- listing rules

    /** Lists through a rule applied to everything under the prefix (UTF-8 order) of a correct store. */
    private static final class RuleListing extends ForwardingObjectStore {
        interface Rule {
            ListPage page(List<ObjectInfo> all, String prefix, String startAfter, int maxKeys);
        }

        private final Rule rule;

        RuleListing(Rule rule) {
            super(new InMemoryObjectStore());
            this.rule = rule;
        }

        @Override
        public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
            List<ObjectInfo> all = new ArrayList<>();
            String cursor = null;
            do {
                ListPage p = delegate().list(prefix, cursor, 1000).join();
                all.addAll(p.objects());
                cursor = p.nextStartAfter();
            } while (cursor != null);
            return CompletableFuture.completedFuture(rule.page(all, prefix, startAfter, maxKeys));
        }
    }

    /** A page of the keys after {@code startAfter} by {@code order}, at most {@code maxKeys}, cursor at its last key. */
    private static ListPage pageOf(List<ObjectInfo> all, String startAfter, int maxKeys, Comparator<String> order,
            boolean inclusive) {
        List<ObjectInfo> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparing(ObjectInfo::key, order));
        List<ObjectInfo> out = new ArrayList<>();
        for (ObjectInfo i : sorted) {
            int c = startAfter == null ? 1 : order.compare(i.key(), startAfter);
            if (c > 0 || (inclusive && c == 0)) {
                if (out.size() == maxKeys) {
                    return new ListPage(out, out.get(out.size() - 1).key());
                }
                out.add(i);
            }
        }
        return new ListPage(out, null);
    }

    private static ObjectStore inclusiveStartAfter() {
        return new RuleListing((all, prefix, startAfter, maxKeys) -> pageOf(all, startAfter, maxKeys, UTF8, true));
    }

    private static ObjectStore utf16Order() {
        return new RuleListing((all, prefix, startAfter, maxKeys) ->
                pageOf(all, startAfter, maxKeys, Comparator.naturalOrder(), false));
    }

    /**
     * A correct S3 server (UTF-8 order, StartAfter, MaxKeys) behind the client logic S3ObjectStore
     * had before this suite caught it: startAfter dropped when String-before the prefix, the
     * server's keys filtered with String.compareTo.
     */
    private static ObjectStore stringComparingS3Client() {
        return new RuleListing((all, prefix, startAfter, maxKeys) -> {
            String sent = startAfter == null || startAfter.compareTo(prefix) < 0 ? null : startAfter;
            String serverCursor = sent;
            while (true) {
                ListPage server = pageOf(all, serverCursor, maxKeys, UTF8, false);
                List<ObjectInfo> out = new ArrayList<>();
                for (ObjectInfo i : server.objects()) {
                    if (sent == null || i.key().compareTo(sent) > 0) {
                        out.add(i);
                    }
                }
                if (!server.isLast() && out.isEmpty()) {
                    serverCursor = server.nextStartAfter();   // the continuation token
                    continue;
                }
                return new ListPage(out, server.isLast() || out.isEmpty() ? null : out.get(out.size() - 1).key());
            }
        });
    }

    /** Hands out the first key of the next page as the cursor: that key is never listed. */
    private static ObjectStore cursorOneTooFar() {
        return new RuleListing((all, prefix, startAfter, maxKeys) -> {
            ListPage p = pageOf(all, startAfter, maxKeys, UTF8, false);
            if (p.isLast()) {
                return p;
            }
            ListPage next = pageOf(all, p.nextStartAfter(), 1, UTF8, false);
            return new ListPage(p.objects(), next.objects().isEmpty() ? p.nextStartAfter() : next.objects().get(0).key());
        });
    }

    /** Serves every page of a listing from the key set seen by its first page. */
    private static ObjectStore snapshotPerListing() {
        Map<String, List<ObjectInfo>> snapshots = new LinkedHashMap<>();
        return new RuleListing((all, prefix, startAfter, maxKeys) -> {
            synchronized (snapshots) {
                if (startAfter == null) {
                    snapshots.put(prefix, all);
                }
                return pageOf(snapshots.getOrDefault(prefix, all), startAfter, maxKeys, UTF8, false);
            }
        });
    }

    // ---------------------------------------------------------------- delete rules

    /** Sends only the first 1,000 keys of a call, as a store that forgets to split a batch would. */
    private static ObjectStore deleteFirstThousandOnly() {
        return new ForwardingObjectStore(new InMemoryObjectStore()) {
            @Override
            public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
                List<String> all = new ArrayList<>(keys);
                return delegate().delete(all.subList(0, Math.min(all.size(), 1_000)));
            }
        };
    }

    /** Treats a key as a directory and deletes everything below it too. */
    private static ObjectStore deleteAsDirectory() {
        return new ForwardingObjectStore(new InMemoryObjectStore()) {
            @Override
            public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
                List<String> doomed = new ArrayList<>(keys);
                for (String k : keys) {
                    String cursor = null;
                    do {
                        ListPage p = delegate().list(k + "/", cursor, 1000).join();
                        p.objects().forEach(i -> doomed.add(i.key()));
                        cursor = p.nextStartAfter();
                    } while (cursor != null);
                }
                return delegate().delete(doomed);
            }
        };
    }

    /** Reports a key with no object as failed instead of counting it as deleted. */
    private static ObjectStore deleteReportsMissingKeys() {
        return new ForwardingObjectStore(new InMemoryObjectStore()) {
            @Override
            public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
                Map<String, String> failed = new LinkedHashMap<>();
                for (String k : keys) {
                    if (delegate().head(k).join().isEmpty()) {
                        failed.put(k, "NoSuchKey");
                    }
                }
                return delegate().delete(keys).thenApply(r -> failed.isEmpty() ? r : new DeleteResult(failed));
            }
        };
    }

    // ---------------------------------------------------------------- the new tests, each caught

    @Test
    void resumeAfterAnyStartAfterCatchesAnInclusiveStartAfter() throws Exception {
        assertCatches(ConformanceSuiteSensitivityTest::inclusiveStartAfter,
                ObjectStoreConformanceTest::listShouldResumeExactlyAfterAnyStartAfter);
    }

    @Test
    void utf8OrderTestCatchesStringOrderInTheStoreOrInItsClient() throws Exception {
        assertCatches(ConformanceSuiteSensitivityTest::utf16Order,
                ObjectStoreConformanceTest::listShouldApplyStartAfterAndPrefixInUtf8ByteOrder);
        assertCatches(ConformanceSuiteSensitivityTest::stringComparingS3Client,
                ObjectStoreConformanceTest::listShouldApplyStartAfterAndPrefixInUtf8ByteOrder);
    }

    @Test
    void changesBetweenPagesCatchASnapshotAndALostKey() throws Exception {
        assertCatches(ConformanceSuiteSensitivityTest::snapshotPerListing,
                ObjectStoreConformanceTest::listShouldStayExactWhenObjectsChangeBetweenPages);
        assertCatches(ConformanceSuiteSensitivityTest::cursorOneTooFar,
                ObjectStoreConformanceTest::listShouldStayExactWhenObjectsChangeBetweenPages);
    }

    @Test
    void concurrentListingCatchesRepeatedAndLostKeys() throws Exception {
        assertCatches(ConformanceSuiteSensitivityTest::inclusiveStartAfter,
                ObjectStoreConformanceTest::listingConcurrentWithCreatesAndDeletesShouldNeverRepeatOrLoseKeys);
        assertCatches(ConformanceSuiteSensitivityTest::cursorOneTooFar,
                ObjectStoreConformanceTest::listingConcurrentWithCreatesAndDeletesShouldNeverRepeatOrLoseKeys);
    }

    @Test
    void maxKeysOnePagingCatchesRepeatedAndLostKeys() throws Exception {
        assertCatches(ConformanceSuiteSensitivityTest::inclusiveStartAfter,
                ObjectStoreConformanceTest::listWithMaxKeysOneShouldStepThroughThousandsOfKeys);
        assertCatches(ConformanceSuiteSensitivityTest::cursorOneTooFar,
                ObjectStoreConformanceTest::listWithMaxKeysOneShouldStepThroughThousandsOfKeys);
    }

    @Test
    void thousandKeyBoundaryTestCatchesUnsplitBatchesDirectoryDeletesAndFailedMissingKeys() throws Exception {
        assertCatches(ConformanceSuiteSensitivityTest::deleteFirstThousandOnly,
                ObjectStoreConformanceTest::deleteShouldCrossTheThousandKeyBoundaryExactly);
        assertCatches(ConformanceSuiteSensitivityTest::deleteAsDirectory,
                ObjectStoreConformanceTest::deleteShouldCrossTheThousandKeyBoundaryExactly);
        assertCatches(ConformanceSuiteSensitivityTest::deleteReportsMissingKeys,
                ObjectStoreConformanceTest::deleteShouldCrossTheThousandKeyBoundaryExactly);
    }
}
