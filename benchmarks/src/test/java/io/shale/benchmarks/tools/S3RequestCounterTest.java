package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.SdkHttpMethod;

class S3RequestCounterTest {

    private static String op(SdkHttpMethod m, String path, String... queryKeys) {
        Map<String, List<String>> q = new java.util.HashMap<>();
        for (String k : queryKeys) {
            q.put(k, List.of(""));
        }
        return S3RequestCounter.operation(m, path, q);
    }

    @Test
    void pathStyleRequestsShouldBeNamedAsS3NamesTheirOperations() {
        assertThat(op(SdkHttpMethod.PUT, "/b/p/data/1")).isEqualTo("PutObject");
        assertThat(op(SdkHttpMethod.PUT, "/b/p/data/1", "partNumber", "uploadId")).isEqualTo("UploadPart");
        assertThat(op(SdkHttpMethod.POST, "/b/p/data/1", "uploads")).isEqualTo("CreateMultipartUpload");
        assertThat(op(SdkHttpMethod.POST, "/b/p/data/1", "uploadId")).isEqualTo("CompleteMultipartUpload");
        assertThat(op(SdkHttpMethod.DELETE, "/b/p/data/1", "uploadId")).isEqualTo("AbortMultipartUpload");
        assertThat(op(SdkHttpMethod.POST, "/b", "delete")).isEqualTo("DeleteObjects");
        assertThat(op(SdkHttpMethod.GET, "/b", "list-type", "prefix")).isEqualTo("ListObjectsV2");
        assertThat(op(SdkHttpMethod.GET, "/b/", "uploads")).isEqualTo("ListMultipartUploads");
        assertThat(op(SdkHttpMethod.GET, "/b/p/manifest/deltas/1")).isEqualTo("GetObject");
        assertThat(op(SdkHttpMethod.HEAD, "/b/p/wal/1")).isEqualTo("HeadObject");
        assertThat(op(SdkHttpMethod.HEAD, "/b")).isEqualTo("HeadBucket");
        assertThat(op(SdkHttpMethod.DELETE, "/b/k")).isEqualTo("DeleteObject");
    }

    @Test
    void differencesShouldLeaveOutOperationsThatDidNotChange() {
        Map<String, Long> before = Map.of("PutObject", 3L, "GetObject", 5L);
        Map<String, Long> after = Map.of("PutObject", 3L, "GetObject", 9L, "HeadObject", 1L);
        assertThat(S3RequestCounter.minus(after, before)).containsExactly(Map.entry("GetObject", 4L),
                Map.entry("HeadObject", 1L));
    }
}
