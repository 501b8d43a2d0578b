package io.shale.storage.s3;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of an {@link S3ObjectStore}: where the objects live (bucket, key prefix, region,
 * endpoint), how to authenticate, and request limits. Immutable and validated once by
 * {@link Builder#build()} ({@link ShaleException} of kind {@code INVALID_ARGUMENT} naming the bad
 * setting).
 *
 * <ul>
 *   <li><b>Credentials</b>: the AWS default credential chain (environment, system properties, web
 *       identity, profile files, container and instance metadata) unless static credentials are
 *       given. {@link #toString()} never shows the secret key or session token.</li>
 *   <li><b>Region</b>: the AWS default region chain ({@code AWS_REGION}, profile, instance
 *       metadata) unless given.</li>
 *   <li><b>Endpoint</b>: AWS's own unless overridden for an S3-compatible store (MinIO, Ceph RGW,
 *       Cloudflare R2, S3Proxy); usually combined with {@link Builder#pathStyleAccess}. TLS by
 *       default: a plain {@code http://} endpoint is refused unless
 *       {@link Builder#allowInsecureHttp} is set.</li>
 *   <li><b>Directory buckets</b> (S3 Express One Zone, names ending in {@code --x-s3}) are
 *       recognised by name. They need virtual-hosted addressing (path style is refused), and their
 *       listings are neither sorted nor able to start after a key, so the store sorts and filters
 *       listings itself (see {@link S3ObjectStore#list}).</li>
 *   <li><b>Multipart</b>: payloads longer than {@link #multipartThreshold()} are uploaded in parts
 *       of {@link #partSize()} bytes (at least 5 MiB, S3's minimum for every part but the last).</li>
 * </ul>
 */
public final class S3StoreOptions {
    /** S3's smallest allowed part (except the last). */
    public static final long MIN_PART_SIZE = 5L << 20;
    /** S3's largest allowed part and single PUT. */
    public static final long MAX_PART_SIZE = 5L << 30;
    /** S3's largest number of parts in one upload. */
    public static final int MAX_PARTS = 10_000;
    /** The suffix of S3 Express One Zone directory bucket names. */
    public static final String DIRECTORY_BUCKET_SUFFIX = "--x-s3";

    private final String bucket;
    private final String keyPrefix;
    private final String region;
    private final URI endpoint;
    private final boolean pathStyleAccess;
    private final boolean allowInsecureHttp;
    private final String accessKeyId;
    private final String secretAccessKey;
    private final String sessionToken;
    private final Duration apiCallTimeout;
    private final Duration apiCallAttemptTimeout;
    private final Duration attemptTimeoutPerMiB;
    private final Duration connectionTimeout;
    private final int maxConcurrency;
    private final long multipartThreshold;
    private final long partSize;
    private final int partUploadConcurrency;
    private final boolean requestChecksums;

    private S3StoreOptions(Builder b) {
        this.bucket = b.bucket;
        this.keyPrefix = b.keyPrefix;
        this.region = b.region;
        this.endpoint = b.endpoint;
        this.pathStyleAccess = b.pathStyleAccess;
        this.allowInsecureHttp = b.allowInsecureHttp;
        this.accessKeyId = b.accessKeyId;
        this.secretAccessKey = b.secretAccessKey;
        this.sessionToken = b.sessionToken;
        this.apiCallTimeout = b.apiCallTimeout;
        this.apiCallAttemptTimeout = b.apiCallAttemptTimeout;
        this.attemptTimeoutPerMiB = b.attemptTimeoutPerMiB;
        this.connectionTimeout = b.connectionTimeout;
        this.maxConcurrency = b.maxConcurrency;
        this.multipartThreshold = b.multipartThreshold;
        this.partSize = b.partSize;
        this.partUploadConcurrency = b.partUploadConcurrency;
        this.requestChecksums = b.requestChecksums;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.bucket = bucket;
        b.keyPrefix = keyPrefix;
        b.region = region;
        b.endpoint = endpoint;
        b.pathStyleAccess = pathStyleAccess;
        b.allowInsecureHttp = allowInsecureHttp;
        b.accessKeyId = accessKeyId;
        b.secretAccessKey = secretAccessKey;
        b.sessionToken = sessionToken;
        b.apiCallTimeout = apiCallTimeout;
        b.apiCallAttemptTimeout = apiCallAttemptTimeout;
        b.attemptTimeoutPerMiB = attemptTimeoutPerMiB;
        b.connectionTimeout = connectionTimeout;
        b.maxConcurrency = maxConcurrency;
        b.multipartThreshold = multipartThreshold;
        b.partSize = partSize;
        b.partUploadConcurrency = partUploadConcurrency;
        b.requestChecksums = requestChecksums;
        return b;
    }

    public String bucket() {
        return bucket;
    }

    /** The prefix every key is stored under: empty, or ending in {@code '/'}. */
    public String keyPrefix() {
        return keyPrefix;
    }

    /** The region, or empty to use the AWS default region chain. */
    public Optional<String> region() {
        return Optional.ofNullable(region);
    }

    /** The endpoint override, or empty for AWS's own endpoints. */
    public Optional<URI> endpoint() {
        return Optional.ofNullable(endpoint);
    }

    public boolean pathStyleAccess() {
        return pathStyleAccess;
    }

    public boolean allowInsecureHttp() {
        return allowInsecureHttp;
    }

    /** Whether static credentials were given (otherwise the default credential chain is used). */
    public boolean hasStaticCredentials() {
        return accessKeyId != null;
    }

    /** The static access key id, if any (not secret: it names the key, like a user name). */
    public Optional<String> accessKeyId() {
        return Optional.ofNullable(accessKeyId);
    }

    // Package-private: the secret parts are handed only to the SDK.
    String secretAccessKey() {
        return secretAccessKey;
    }

    String sessionToken() {
        return sessionToken;
    }

    /** Whether the bucket is an S3 Express One Zone directory bucket (by its name). */
    public boolean isDirectoryBucket() {
        return bucket.endsWith(DIRECTORY_BUCKET_SUFFIX);
    }

    /** Limit on one whole API call (one request, since the SDK's own retries are off). */
    public Duration apiCallTimeout() {
        return apiCallTimeout;
    }

    /**
     * Limit on one HTTP attempt without a body to transfer (HEAD, LIST, DELETE, small PUTs and
     * GETs). Attempts that move a body get {@link #attemptTimeoutPerMiB()} more per MiB; a GET of
     * unknown length and CompleteMultipartUpload get {@link #apiCallTimeout()}. Default 10 s: a
     * stalled connection fails the attempt (TRANSIENT) and the engine retries it, instead of
     * holding up every acknowledgement queued behind it.
     */
    public Duration apiCallAttemptTimeout() {
        return apiCallAttemptTimeout;
    }

    /** Extra attempt time per MiB of body (default 1 s, i.e. a floor of 1 MiB/s per request). */
    public Duration attemptTimeoutPerMiB() {
        return attemptTimeoutPerMiB;
    }

    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    /** Most HTTP requests in flight at once (the connection pool size). */
    public int maxConcurrency() {
        return maxConcurrency;
    }

    /** Payloads longer than this are uploaded in parts. */
    public long multipartThreshold() {
        return multipartThreshold;
    }

    public long partSize() {
        return partSize;
    }

    /** How many parts of one multipart upload are in flight (and buffered) at once. */
    public int partUploadConcurrency() {
        return partUploadConcurrency;
    }

    /** Whether request bodies carry a flexible checksum (CRC32) when the operation supports one. */
    public boolean requestChecksums() {
        return requestChecksums;
    }

    /** {@code s3://bucket/prefix}, plus the endpoint when overridden. No credentials. */
    public String describe() {
        String base = "s3://" + bucket + "/" + keyPrefix;
        return endpoint == null ? base : base + " at " + endpoint;
    }

    @Override
    public String toString() {
        return "S3StoreOptions{bucket=" + bucket
                + ", keyPrefix=" + keyPrefix
                + ", region=" + (region == null ? "<default chain>" : region)
                + ", endpoint=" + (endpoint == null ? "<aws>" : endpoint)
                + ", pathStyleAccess=" + pathStyleAccess
                + ", credentials=" + (accessKeyId == null ? "<default chain>"
                        : "static(accessKeyId=" + maskKeyId(accessKeyId) + ", secretAccessKey=****"
                                + (sessionToken == null ? "" : ", sessionToken=****") + ")")
                + ", apiCallTimeout=" + apiCallTimeout
                + ", apiCallAttemptTimeout=" + apiCallAttemptTimeout
                + ", attemptTimeoutPerMiB=" + attemptTimeoutPerMiB
                + ", connectionTimeout=" + connectionTimeout
                + ", maxConcurrency=" + maxConcurrency
                + ", multipartThreshold=" + multipartThreshold
                + ", partSize=" + partSize
                + ", partUploadConcurrency=" + partUploadConcurrency
                + ", requestChecksums=" + requestChecksums + "}";
    }

    private static String maskKeyId(String id) {
        return id.length() <= 4 ? "****" : id.substring(0, 4) + "****";
    }

    /** Builds {@link S3StoreOptions}; {@link #bucket} is required. */
    public static final class Builder {
        private String bucket;
        private String keyPrefix = "";
        private String region;
        private URI endpoint;
        private boolean pathStyleAccess;
        private boolean allowInsecureHttp;
        private String accessKeyId;
        private String secretAccessKey;
        private String sessionToken;
        private Duration apiCallTimeout = Duration.ofMinutes(2);
        private Duration apiCallAttemptTimeout = Duration.ofSeconds(10);
        private Duration attemptTimeoutPerMiB = Duration.ofSeconds(1);
        private Duration connectionTimeout = Duration.ofSeconds(5);
        private int maxConcurrency = 64;
        private long multipartThreshold = 64L << 20;
        private long partSize = 16L << 20;
        private int partUploadConcurrency = 4;
        private boolean requestChecksums = true;

        private Builder() {
        }

        public Builder bucket(String bucket) {
            this.bucket = bucket;
            return this;
        }

        /**
         * The prefix all keys live under, e.g. {@code "stores/orders"}; a trailing {@code '/'} is
         * added if missing. Segments follow the key rules of the SPI. Empty means the bucket root.
         */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix == null ? "" : keyPrefix;
            return this;
        }

        /** An explicit region, e.g. {@code "eu-west-1"}; otherwise the default region chain. */
        public Builder region(String region) {
            this.region = region;
            return this;
        }

        /** An S3-compatible endpoint, e.g. {@code https://minio.internal:9000}. */
        public Builder endpoint(URI endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        /** Address buckets as {@code endpoint/bucket/key} rather than {@code bucket.endpoint/key}. */
        public Builder pathStyleAccess(boolean pathStyleAccess) {
            this.pathStyleAccess = pathStyleAccess;
            return this;
        }

        /** Permit a plain {@code http://} endpoint (local test servers); off by default. */
        public Builder allowInsecureHttp(boolean allowInsecureHttp) {
            this.allowInsecureHttp = allowInsecureHttp;
            return this;
        }

        /** Static credentials instead of the default chain. */
        public Builder staticCredentials(String accessKeyId, String secretAccessKey) {
            return staticCredentials(accessKeyId, secretAccessKey, null);
        }

        /** Static temporary credentials (with a session token) instead of the default chain. */
        public Builder staticCredentials(String accessKeyId, String secretAccessKey, String sessionToken) {
            this.accessKeyId = Objects.requireNonNull(accessKeyId, "accessKeyId");
            this.secretAccessKey = Objects.requireNonNull(secretAccessKey, "secretAccessKey");
            this.sessionToken = sessionToken;
            return this;
        }

        public Builder apiCallTimeout(Duration timeout) {
            this.apiCallTimeout = timeout;
            return this;
        }

        public Builder apiCallAttemptTimeout(Duration timeout) {
            this.apiCallAttemptTimeout = timeout;
            return this;
        }

        public Builder attemptTimeoutPerMiB(Duration perMiB) {
            this.attemptTimeoutPerMiB = perMiB;
            return this;
        }

        public Builder connectionTimeout(Duration timeout) {
            this.connectionTimeout = timeout;
            return this;
        }

        public Builder maxConcurrency(int maxConcurrency) {
            this.maxConcurrency = maxConcurrency;
            return this;
        }

        public Builder multipartThreshold(long bytes) {
            this.multipartThreshold = bytes;
            return this;
        }

        public Builder partSize(long bytes) {
            this.partSize = bytes;
            return this;
        }

        public Builder partUploadConcurrency(int parts) {
            this.partUploadConcurrency = parts;
            return this;
        }

        /**
         * Send a CRC32 checksum with request bodies where S3 accepts one (the SDK default). Turn off
         * for S3-compatible stores that reject the {@code aws-chunked} trailing-checksum encoding.
         */
        public Builder requestChecksums(boolean requestChecksums) {
            this.requestChecksums = requestChecksums;
            return this;
        }

        /**
         * Validates the settings.
         *
         * @throws ShaleException {@code INVALID_ARGUMENT} naming the first invalid setting
         */
        public S3StoreOptions build() {
            if (bucket == null || bucket.isEmpty()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "bucket is required");
            }
            validateBucket(bucket);
            keyPrefix = normalizePrefix(keyPrefix);
            if (region != null && (region.isBlank() || !region.equals(region.trim().toLowerCase(Locale.ROOT)))) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "region must be a lowercase region name like 'eu-west-1': '" + region + "'");
            }
            if (endpoint != null) {
                String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
                if (endpoint.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
                    throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "endpoint must be an absolute http(s) URI with a host: " + endpoint);
                }
                if (scheme.equals("http") && !allowInsecureHttp) {
                    throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "endpoint " + endpoint
                            + " is plain HTTP; use https, or set allowInsecureHttp(true) for a local test server");
                }
                if (endpoint.getUserInfo() != null) {
                    throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "endpoint must not carry user info (credentials); use staticCredentials");
                }
            }
            boolean directory = bucket.endsWith(DIRECTORY_BUCKET_SUFFIX);
            if (directory && pathStyleAccess) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "directory bucket " + bucket + " supports only virtual-hosted-style addressing; "
                        + "pathStyleAccess must be false");
            }
            if (accessKeyId != null && (accessKeyId.isBlank() || secretAccessKey.isBlank())) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "static credentials must not be blank");
            }
            requirePositive("apiCallTimeout", apiCallTimeout);
            requirePositive("apiCallAttemptTimeout", apiCallAttemptTimeout);
            requirePositive("connectionTimeout", connectionTimeout);
            if (attemptTimeoutPerMiB == null || attemptTimeoutPerMiB.isNegative()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "attemptTimeoutPerMiB must be zero or positive: " + attemptTimeoutPerMiB);
            }
            if (apiCallAttemptTimeout.compareTo(apiCallTimeout) > 0) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "apiCallAttemptTimeout " + apiCallAttemptTimeout
                        + " must not exceed apiCallTimeout " + apiCallTimeout);
            }
            if (maxConcurrency < 1 || maxConcurrency > 10_000) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "maxConcurrency must be in [1, 10000]: " + maxConcurrency);
            }
            if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "partSize must be in [5 MiB, 5 GiB] (S3's part limits): " + partSize);
            }
            if (multipartThreshold < MIN_PART_SIZE || multipartThreshold > MAX_PART_SIZE) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "multipartThreshold must be in [5 MiB, 5 GiB]: " + multipartThreshold);
            }
            if (partUploadConcurrency < 1 || partUploadConcurrency > maxConcurrency) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "partUploadConcurrency must be in [1, maxConcurrency=" + maxConcurrency + "]: "
                        + partUploadConcurrency);
            }
            return new S3StoreOptions(this);
        }

        private static void requirePositive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, name + " must be positive: " + d);
            }
        }

        private static void validateBucket(String b) {
            // General purpose rules: 3-63 chars of a-z 0-9 . -, starting and ending with a letter or digit.
            // Directory buckets follow the same alphabet ("base--zone-id--x-s3").
            if (b.length() < 3 || b.length() > 63) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "bucket name must be 3 to 63 characters: '" + b + "'");
            }
            for (int i = 0; i < b.length(); i++) {
                char c = b.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
                if (!ok) {
                    throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "bucket name may contain only a-z, 0-9, '.' and '-': '" + b + "'");
                }
            }
            if (!Character.isLetterOrDigit(b.charAt(0)) || !Character.isLetterOrDigit(b.charAt(b.length() - 1))) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "bucket name must start and end with a letter or digit: '" + b + "'");
            }
        }

        private static String normalizePrefix(String prefix) {
            if (prefix.isEmpty()) {
                return "";
            }
            String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
            try {
                S3Keys.validate(p);
            } catch (IllegalArgumentException e) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "invalid keyPrefix '" + prefix + "': " + e.getMessage(), e);
            }
            if (S3Keys.utf8Length(p) > 512) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "keyPrefix longer than 512 bytes: '" + prefix + "'");
            }
            return p + "/";
        }
    }
}
