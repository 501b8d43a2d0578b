package io.shale.broker;

import java.net.URI;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.Constants;

/**
 * A real S3-compatible server (S3Proxy, in memory) in this JVM on a free localhost port, requiring
 * signed requests. (storage-s3's test-jar has a fuller fixture; library modules may not depend on
 * test-jars, see the parent pom, so the broker starts its own.)
 */
final class InProcessS3 implements AutoCloseable {
    static final String ACCESS_KEY = "broker-test-access";
    static final String SECRET_KEY = "broker-test-secret-do-not-use";

    private final S3Proxy proxy;
    private final BlobStore blobStore;
    final URI endpoint;

    InProcessS3() throws Exception {
        Properties props = new Properties();
        props.setProperty(Constants.PROPERTY_IDENTITY, ACCESS_KEY);
        props.setProperty(Constants.PROPERTY_CREDENTIAL, SECRET_KEY);
        blobStore = BlobStores.create("transient", props);
        proxy = S3Proxy.builder().blobStore(blobStore).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).stopTimeout(0).build();
        proxy.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(5);
        }
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    void createBucket(String bucket) {
        if (!blobStore.containerExists(bucket)) {
            blobStore.createContainer(bucket);
        }
    }

    /** Keys under {@code prefix} in {@code bucket}, as the S3 API stores them. */
    java.util.List<String> keys(String bucket, String prefix) {
        return blobStore.list(software.amazon.awssdk.services.s3.model.ListObjectsV2Request.builder().bucket(bucket)
                .prefix(prefix).build()).contents().stream().map(software.amazon.awssdk.services.s3.model.S3Object::key).toList();
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        blobStore.close();
    }
}
