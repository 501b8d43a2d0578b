package io.shale.storage.s3;

import io.shale.log.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(S3ProxyExtension.class)
class S3SmokeProbe {
    @Test
    void probe(S3ProxyServer s3) throws Exception {
        s3.createBucket("probe");
        try (S3ObjectStore store = S3ObjectStore.create(s3.options("probe", "p").build())) {
            store.put("a/b", Payload.of(new byte[] {1, 2, 3, 4, 5}), "tok1").join();
            System.out.println("head " + store.head("a/b").join());
            System.out.println("get " + store.get("a/b").join());
            System.out.println("get 1,2 " + store.get("a/b", 1, 2).join());
            System.out.println("get 3,100 " + store.get("a/b", 3, 100).join());
            try { System.out.println("get 5,1 " + store.get("a/b", 5, 1).join()); } catch (Exception e) { System.out.println("get 5,1 -> " + e); }
            try { System.out.println("get 9,-1 " + store.get("a/b", 9, -1).join()); } catch (Exception e) { System.out.println("get 9 -> " + e); }
            System.out.println("pia existing " + store.putIfAbsent("a/b", Payload.of(new byte[] {9}), "tok2").join());
            System.out.println("pia new " + store.putIfAbsent("a/c", Payload.of(new byte[] {9}), "tok2").join());
            System.out.println("list " + store.list("a/", null, 10).join());
            System.out.println("list sa " + store.list("a/", "a/b", 1).join());
            System.out.println("delete " + store.delete(java.util.List.of("a/b", "zz")).join());
            try { store.get("a/b").join(); } catch (Exception e) { System.out.println("get missing -> " + e.getCause()); }
        }
    }
}
