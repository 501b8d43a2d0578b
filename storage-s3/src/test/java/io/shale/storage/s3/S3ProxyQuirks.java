package io.shale.storage.s3;

import java.lang.reflect.Method;
import java.util.Map;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips the conformance tests that S3Proxy 4.1.0 itself cannot pass, each with the reason, so
 * they show up as skipped (not silently absent) and the rest of the suite stays strict. The
 * deterministic quirks are pinned by tests in {@link S3ProxyBehaviourTest}, which fail once
 * S3Proxy changes; the overwrite race is timing-dependent and only documented here.
 *
 * <ul>
 *   <li>Its nio2 backends store a key as a file and its '/'-separated parents as directories, so
 *       "a/b" and "a/b/c" cannot both exist (the second PUT answers 500 InternalError).</li>
 *   <li>Its object data and user metadata are separate files written one after the other, so a
 *       HEAD racing an overwrite can see the new size with the old token (seen under load).</li>
 *   <li>It lists keys in Java String (UTF-16) order, not UTF-8 byte order as S3 does: U+FFFD
 *       sorts after an emoji (a surrogate pair) there, before it on S3.</li>
 * </ul>
 */
public final class S3ProxyQuirks implements ExecutionCondition {
    private static final String FILE_AND_DIRECTORY = "S3Proxy nio2 backend: a key cannot be both an object and a "
            + "'directory' of other keys (500 InternalError)";
    private static final Map<String, String> SKIPPED = Map.of(
            "keysThatArePrefixesOfOtherKeysShouldCoexist", FILE_AND_DIRECTORY,
            "deleteShouldRemoveObjectsAndLeaveOthers", FILE_AND_DIRECTORY,
            "listShouldReturnOnlyKeysWithThePrefix", FILE_AND_DIRECTORY,
            "listShouldOrderKeysByTheirUtf8Bytes", FILE_AND_DIRECTORY,
            "listShouldPaginateThroughManyKeys", FILE_AND_DIRECTORY,
            "listShouldStartStrictlyAfterStartAfter", FILE_AND_DIRECTORY,
            "unusualValidKeysShouldRoundTrip", "S3Proxy lists in UTF-16 order, S3 in UTF-8 byte order",
            "overwriteShouldBeAtomicForConcurrentReaders", "S3Proxy nio2 backend: an overwrite is not atomic for a "
                    + "concurrent HEAD (new size with the old token)");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String reason = context.getTestMethod().map(Method::getName).map(SKIPPED::get).orElse(null);
        return reason == null
                ? ConditionEvaluationResult.enabled("not a known S3Proxy quirk")
                : ConditionEvaluationResult.disabled("known S3Proxy 4.1.0 quirk: " + reason);
    }
}
