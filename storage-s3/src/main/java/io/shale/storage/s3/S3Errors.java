package io.shale.storage.s3;

import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.ObjectStoreException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.RetryableException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Maps what the SDK throws to {@link ObjectStoreException} reasons.
 *
 * <pre>
 *  S3 answer / client failure                                       reason
 *  404, NoSuchKey, NoSuchUpload                                     NOT_FOUND
 *  NoSuchBucket (any status)                                        PERMANENT, names the bucket
 *  401, 403, AccessDenied, InvalidAccessKeyId,
 *    SignatureDoesNotMatch, other 400s and 4xx                      PERMANENT, names bucket and key
 *  503 (SlowDown, ServiceUnavailable), 429, SlowDown/Throttling*    THROTTLED
 *  409 ConditionalRequestConflict / OperationAborted                TRANSIENT (a racing conditional write)
 *  400 RequestTimeout, IncompleteBody, BadDigest,
 *    XAmzContentSHA256Mismatch (the body was cut or garbled in
 *    transit)                                                       TRANSIENT
 *  500, 502, 504, other 5xx                                         TRANSIENT
 *  API call / attempt timeout, IOException (reset, refused,
 *    closed channel), SDK RetryableException                        TRANSIENT
 *  any other client-side failure (no credentials, no region)        PERMANENT
 * </pre>
 *
 * 412 (If-None-Match lost) and 416 (range past the end) are ordinary results, handled by the
 * operations themselves before this mapping.
 */
final class S3Errors {
    private static final Set<String> THROTTLE_CODES = Set.of(
            "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
            "RequestLimitExceeded", "TooManyRequests", "TooManyRequestsException", "RequestThrottledException");
    private static final Set<String> TRANSIENT_4XX_CODES = Set.of(
            "RequestTimeout", "IncompleteBody", "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest",
            "ConditionalRequestConflict", "OperationAborted", "RequestTimeoutException");
    private static final Set<String> AUTH_CODES = Set.of(
            "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
            "TokenRefreshRequired", "AllAccessDisabled", "AuthorizationHeaderMalformed", "InvalidSecurity");

    private S3Errors() {
    }

    /** Removes CompletionException/ExecutionException layers. */
    static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }

    /** The HTTP status of an S3 error answer, or -1 if {@code t} is not one. */
    static int status(Throwable t) {
        Throwable u = unwrap(t);
        return u instanceof AwsServiceException ase ? ase.statusCode() : -1;
    }

    /** The S3 error code of an S3 error answer ({@code "NoSuchKey"}), or {@code ""}. */
    static String code(Throwable t) {
        Throwable u = unwrap(t);
        if (u instanceof AwsServiceException ase && ase.awsErrorDetails() != null
                && ase.awsErrorDetails().errorCode() != null) {
            return ase.awsErrorDetails().errorCode();
        }
        return "";
    }

    /**
     * Converts a failure of {@code op} on {@code key} (null for store-wide operations) to an
     * {@link ObjectStoreException}. Exceptions that are neither SDK nor I/O failures (e.g. a
     * caller's payload that threw) are returned unchanged.
     */
    static Throwable map(Throwable failure, String op, String bucket, String fullKey, String key) {
        Throwable t = unwrap(failure);
        if (t instanceof ObjectStoreException) {
            return t;
        }
        String where = "s3://" + bucket + (fullKey == null ? "" : "/" + fullKey);
        if (t instanceof AwsServiceException ase) {
            int status = ase.statusCode();
            String code = code(ase);
            String detail = op + " " + where + ": HTTP " + status + (code.isEmpty() ? "" : " " + code)
                    + (ase.requestId() == null ? "" : " (request id " + ase.requestId() + ")");
            return new ObjectStoreException(reasonOf(status, code), key, messageFor(status, code, bucket, detail), ase);
        }
        if (t instanceof SdkClientException || t instanceof IOException || t instanceof UncheckedIOException
                || t instanceof TimeoutException) {
            Reason reason = isTransientClientFailure(t) ? Reason.TRANSIENT : Reason.PERMANENT;
            return new ObjectStoreException(reason, key, op + " " + where + " failed: " + t, t);
        }
        return t;
    }

    /** Whether another attempt of the request that failed with {@code t} may succeed. */
    static boolean isRetryable(Throwable t) {
        Throwable u = unwrap(t);
        if (u instanceof AwsServiceException ase) {
            Reason r = reasonOf(ase.statusCode(), code(ase));
            return r == Reason.TRANSIENT || r == Reason.THROTTLED;
        }
        return isTransientClientFailure(u);
    }

    /**
     * Whether the connection closed (FIN, not a reset or a timeout) before the request got an
     * answer: what a client sees when it sends on a pooled keep-alive connection the server has
     * just closed. An idempotent request may be sent once more at once (see
     * S3ObjectStore#idempotent); a reset or a truncated answer is left to the caller's retries.
     */
    private static final String NETTY_CLOSED_MESSAGE = "The connection was closed during the request";

    static boolean isClosedBeforeAnswer(Throwable t) {
        for (Throwable cur = unwrap(t); cur != null; cur = cur.getCause()) {
            if (cur instanceof ClosedChannelException) {
                return true;
            }
            // The Netty client reports a channel that went inactive before the answer with this
            // message and no cause (a reset carries the reset IOException as its cause).
            if (cur instanceof IOException && cur.getCause() == null
                    && String.valueOf(cur.getMessage()).startsWith(NETTY_CLOSED_MESSAGE)) {
                return true;
            }
            if (cur.getCause() == cur) {
                break;
            }
        }
        return false;
    }

    static Reason reasonOf(int status, String code) {
        if ("NoSuchBucket".equals(code)) {
            return Reason.PERMANENT;
        }
        if (status == 503 || status == 429 || THROTTLE_CODES.contains(code)) {
            return Reason.THROTTLED;
        }
        if (TRANSIENT_4XX_CODES.contains(code)) {
            return Reason.TRANSIENT;
        }
        if (status == 404 || "NoSuchKey".equals(code) || "NoSuchUpload".equals(code)) {
            return Reason.NOT_FOUND;
        }
        if (AUTH_CODES.contains(code) || status == 401 || status == 403) {
            return Reason.PERMANENT;
        }
        if (status >= 500) {
            return Reason.TRANSIENT;
        }
        return Reason.PERMANENT;
    }

    private static String messageFor(int status, String code, String bucket, String detail) {
        if ("NoSuchBucket".equals(code)) {
            return "bucket '" + bucket + "' does not exist: " + detail;
        }
        if (AUTH_CODES.contains(code) || status == 401 || status == 403) {
            return "access denied (check credentials and permissions for bucket '" + bucket + "'): " + detail;
        }
        return detail;
    }

    private static boolean isTransientClientFailure(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        if (msg.startsWith("Unable to load credentials") || msg.startsWith("Unable to load region")) {
            return false; // configuration, even if a provider in the chain hit an I/O error on the way
        }
        for (Throwable cur = t; cur != null; cur = cur.getCause()) {
            if (cur instanceof ApiCallTimeoutException || cur instanceof ApiCallAttemptTimeoutException
                    || cur instanceof RetryableException || cur instanceof IOException
                    || cur instanceof UncheckedIOException || cur instanceof TimeoutException) {
                return true;
            }
            // Netty's ReadTimeoutException/WriteTimeoutException and CRT's HttpException on a reset
            // are not IOExceptions; recognise them by name to keep the CRT/Netty types out of here.
            String name = cur.getClass().getName();
            if (name.endsWith("TimeoutException") || name.startsWith("io.netty.channel.")
                    || name.equals("software.amazon.awssdk.crt.http.HttpException")) {
                return true;
            }
            if (cur.getCause() == cur) {
                break;
            }
        }
        return false;
    }
}
