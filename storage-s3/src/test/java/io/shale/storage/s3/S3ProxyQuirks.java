package io.shale.storage.s3;

import java.lang.reflect.Method;
import java.util.Map;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips the conformance tests that S3Proxy 4.1.0 itself cannot pass, each with the reason, so
 * they show up as skipped (not silently absent) and the rest of the suite stays strict. Both of
 * its local backends are affected alike: "transient" and "filesystem" are the same nio2 file-tree
 * code (AbstractNio2BlobStore), over an in-memory file system or the disk. The deterministic
 * quirks are pinned for both backends by tests in {@link S3ProxyBehaviourTest}, which fail once
 * S3Proxy changes; the overwrite and listing races are timing-dependent and only documented here. Every test
 * skipped here runs, unskipped, against Ceph RGW in {@link S3ObjectStoreConformanceOnCephRgwTest}.
 *
 * <ul>
 *   <li>It stores a key as a file and its '/'-separated parents as directories, so "a/b" and
 *       "a/b/c" cannot both exist (the second PUT answers 500 InternalError).</li>
 *   <li>Its object data and user metadata are written one after the other, so a HEAD racing an
 *       overwrite can see the new size with the old token (seen under load).</li>
 *   <li>It writes an object to a temporary file named after the key plus "-" and a UUID, then
 *       renames it into place, so a listing racing a PUT can list that temporary key (seen once
 *       in CI: "race-list/131-5c2439cc-...").</li>
 *   <li>It lists keys and applies start-after in Java String (UTF-16) order, not UTF-8 byte order
 *       as S3 does: U+FFFD sorts after an emoji (a surrogate pair) there, before it on S3, and
 *       start-after=U+FFFD hides the emoji.</li>
 * </ul>
 */
public final class S3ProxyQuirks implements ExecutionCondition {
    private static final String FILE_AND_DIRECTORY = "S3Proxy nio2 backend: a key cannot be both an object and a "
            + "'directory' of other keys (500 InternalError)";
    private static final String UTF16_ORDER = "S3Proxy lists and applies start-after in UTF-16 order, S3 in UTF-8 "
            + "byte order";
    private static final Map<String, String> SKIPPED = Map.of(
            "keysThatArePrefixesOfOtherKeysShouldCoexist", FILE_AND_DIRECTORY,
            "deleteShouldRemoveObjectsAndLeaveOthers", FILE_AND_DIRECTORY,
            "listShouldReturnOnlyKeysWithThePrefix", FILE_AND_DIRECTORY,
            "listShouldOrderKeysByTheirUtf8Bytes", FILE_AND_DIRECTORY,
            "listShouldPaginateThroughManyKeys", FILE_AND_DIRECTORY,
            "listShouldStartStrictlyAfterStartAfter", FILE_AND_DIRECTORY,
            "unusualValidKeysShouldRoundTrip", UTF16_ORDER,
            "listShouldApplyStartAfterAndPrefixInUtf8ByteOrder", UTF16_ORDER,
            "listingConcurrentWithCreatesAndDeletesShouldNeverRepeatOrLoseKeys", "S3Proxy nio2 backend: a PUT writes "
                    + "'<key>-<uuid>' and renames it, so a concurrent listing can list the temporary key",
            "overwriteShouldBeAtomicForConcurrentReaders", "S3Proxy nio2 backend: an overwrite is not atomic for a "
                    + "concurrent HEAD (new size with the old token)");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return evaluate(context, SKIPPED);
    }

    private static ConditionEvaluationResult evaluate(ExtensionContext context, Map<String, String> skipped) {
        String reason = context.getTestMethod().map(Method::getName).map(skipped::get).orElse(null);
        return reason == null
                ? ConditionEvaluationResult.enabled("not a known S3Proxy quirk")
                : ConditionEvaluationResult.disabled("known S3Proxy 4.1.0 quirk: " + reason);
    }

    /**
     * The filesystem backend's own quirks, on top of the ones above: the disk's errors and limits
     * leak through as 500 InternalError (pinned by {@link S3ProxyBehaviourTest}; the in-memory
     * backend has neither).
     *
     * <ul>
     *   <li>A key below an existing object ("dir/file/child") is a path through a regular file:
     *       GET and HEAD of it, and a DeleteObjects batch naming it, answer 500 (ENOTDIR) instead
     *       of 404, an empty HEAD and success.</li>
     *   <li>Each key segment becomes a file name, which the file system limits to 255 bytes: a
     *       512-byte segment answers 500 (ENAMETOOLONG).</li>
     * </ul>
     */
    public static final class FilesystemBackend implements ExecutionCondition {
        private static final String BELOW_AN_OBJECT = "S3Proxy filesystem backend: a key below an existing object "
                + "('dir/file/child') is a path through a file; GET, HEAD and delete of it answer 500 (ENOTDIR)";
        private static final Map<String, String> SKIPPED = Map.of(
                "getOfAMissingKeyShouldFailWithNotFound", BELOW_AN_OBJECT,
                "headOfAMissingKeyShouldBeEmpty", BELOW_AN_OBJECT,
                "deleteShouldBeIdempotentForMissingKeys", BELOW_AN_OBJECT,
                "deleteShouldCrossTheThousandKeyBoundaryExactly", BELOW_AN_OBJECT,
                "keysOfTheMaximumLengthShouldBeAccepted", "S3Proxy filesystem backend: a key segment is a file name, "
                        + "at most 255 bytes on the disk (500 InternalError for a 512-byte segment)");

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return evaluate(context, SKIPPED);
        }
    }
}
