package io.shale.catalog.postgres;

import io.shale.storage.s3.S3StoreOptions;
import java.net.URI;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.Constants;

/**
 * S3Proxy (in memory) in this JVM on a free localhost port, requiring signed requests. (Library
 * modules may not depend on storage-s3's test-jar, which has a fuller fixture.)
 */
final class InProcessS3 implements AutoCloseable {
    private static final String ACCESS_KEY = "catalog-test-access";
    private static final String SECRET_KEY = "catalog-test-secret-do-not-use";

    private final S3Proxy proxy;
    private final BlobStore blobStore;
    private final URI endpoint;

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

    /** Options of a store in {@code bucket} (created if absent). */
    S3StoreOptions options(String bucket) {
        if (!blobStore.containerExists(bucket)) {
            blobStore.createContainer(bucket);
        }
        return S3StoreOptions.builder().bucket(bucket).region("us-east-1").endpoint(endpoint).pathStyleAccess(true)
                .allowInsecureHttp(true).staticCredentials(ACCESS_KEY, SECRET_KEY).build();
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        blobStore.close();
    }
}
