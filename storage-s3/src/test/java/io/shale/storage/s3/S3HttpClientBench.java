package io.shale.storage.s3;

import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;
import software.amazon.awssdk.http.crt.AwsCrtAsyncHttpClient;

/**
 * Measures the S3 store with the Netty and the CRT async HTTP clients against the in-process S3
 * server: PUT and GET throughput and latency for 1 MiB and 16 MiB objects with a few requests in
 * flight, plus how many requests fail after S3Proxy answers 412 to a conditional PUT (connection
 * reuse). Rounds alternate the clients to spread machine noise. Not a test; rerun with:
 *
 * <pre>
 * cd storage-s3 &amp;&amp; mvn -B -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.shale.storage.s3.S3HttpClientBench [rounds] [concurrency]
 * </pre>
 */
public final class S3HttpClientBench {
    private static final int MIB = 1 << 20;

    private S3HttpClientBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        try (S3ProxyServer s3 = S3ProxyServer.start()) {
            s3.createBucket("bench");
            List<String> lines = new ArrayList<>();
            for (int round = 0; round < rounds + 1; round++) {
                for (String kind : List.of("netty", "crt")) {
                    S3StoreOptions options = s3.options("bench", kind + "-" + round)
                            .multipartThreshold(64L * MIB).maxConcurrency(64).build();
                    try (S3ObjectStore store = kind.equals("netty") ? S3ObjectStore.create(options)
                            : S3ObjectStore.create(options, AwsCrtAsyncHttpClient.builder().maxConcurrency(64))) {
                        boolean warmup = round == 0;
                        for (int size : new int[] {MIB, 16 * MIB}) {
                            int ops = warmup ? 8 : (size == MIB ? 48 : 12);
                            byte[] content = new byte[size];
                            new Random(size).nextBytes(content);
                            String put = phase(concurrency, ops, size, i -> store.put("o/" + size + "/" + i, Payload.of(content), null));
                            String get = phase(concurrency, ops, size, i -> store.get("o/" + size + "/" + i).thenApply(ByteBuffer::remaining));
                            if (!warmup) {
                                lines.add(String.format("round %d %-5s %5s PUT %s", round, kind, size / MIB + "MiB", put));
                                lines.add(String.format("round %d %-5s %5s GET %s", round, kind, size / MIB + "MiB", get));
                            }
                        }
                        if (!warmup) {
                            lines.add(String.format("round %d %-5s failures after 412 answers: %s", round, kind, afterPreconditionFailed(store)));
                        }
                    }
                }
            }
            System.out.println("client  size  op   MB/s  p50 ms  p99 ms  max ms  (concurrency " + concurrency + ")");
            lines.forEach(System.out::println);
        }
    }

    /** Runs {@code ops} operations with at most {@code concurrency} in flight; throughput and latency. */
    private static String phase(int concurrency, int ops, int size, IntFunction<CompletableFuture<?>> op) throws Exception {
        Semaphore slots = new Semaphore(concurrency);
        long[] latencies = new long[ops];
        List<CompletableFuture<?>> all = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            slots.acquire();
            int idx = i;
            long t0 = System.nanoTime();
            all.add(op.apply(i).whenComplete((r, t) -> {
                latencies[idx] = System.nanoTime() - t0;
                slots.release();
            }));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
        long wall = System.nanoTime() - start;
        Arrays.sort(latencies);
        double mbps = (double) ops * size / 1e6 / (wall / 1e9);
        return String.format("%7.1f %7.1f %7.1f %7.1f", mbps, latencies[ops / 2] / 1e6,
                latencies[(int) Math.min(ops - 1, Math.ceil(ops * 0.99) - 1)] / 1e6, latencies[ops - 1] / 1e6);
    }

    /** 100 conditional PUTs to an existing key (each answered 412), each followed by a HEAD; counts failed calls. */
    private static int afterPreconditionFailed(S3ObjectStore store) {
        store.put("exists", Payload.of(new byte[1024]), "t").join();
        int failures = 0;
        for (int i = 0; i < 100; i++) {
            try {
                store.putIfAbsent("exists", Payload.of(new byte[1024]), "u").join();
                store.head("exists").join();
            } catch (RuntimeException e) {
                failures++;
            }
        }
        return failures;
    }
}
