package io.shale.log.wal;

/**
 * A snapshot of an {@link ObjectWriteAheadLog}'s counters (cumulative since open unless noted).
 *
 * @param objectsWritten objects whose PUT succeeded
 * @param bytesWritten bytes of those objects
 * @param entriesDurable entries acknowledged ({@code onDurable})
 * @param entriesFailed entries failed ({@code onFailure}) for any reason
 * @param putFailures object PUTs that failed after the store's retries
 * @param lastObjectBytes size of the most recently sealed object (the last flush size)
 * @param lastObjectEntries entries in the most recently sealed object
 * @param putLatencyLastMicros latency of the most recent PUT
 * @param putLatencyMaxMicros largest PUT latency seen
 * @param putLatencyP50Micros median PUT latency (upper bound of its power-of-two bucket)
 * @param putLatencyP99Micros 99th percentile PUT latency (upper bound of its power-of-two bucket)
 * @param bufferedBytes memory held now by objects being filled, waiting or in flight (in whole chunks)
 * @param putsInFlight object PUTs in flight now
 * @param backPressureTimeouts appends rejected because buffered bytes stayed above the limit too long
 * @param objectsTrimmed objects deleted by {@code trim}
 * @param replayedObjects objects read by {@code replay}
 * @param replayedEntries entries delivered by {@code replay}
 * @param replayDamagedObjects objects from which replay recovered only a prefix (or skipped as unreadable)
 * @param replayLostEntries entries announced by damaged objects' headers that could not be recovered
 * @param fenced whether the WAL has been fenced
 */
public record ObjectWalMetrics(
        long objectsWritten,
        long bytesWritten,
        long entriesDurable,
        long entriesFailed,
        long putFailures,
        long lastObjectBytes,
        long lastObjectEntries,
        long putLatencyLastMicros,
        long putLatencyMaxMicros,
        long putLatencyP50Micros,
        long putLatencyP99Micros,
        long bufferedBytes,
        int putsInFlight,
        long backPressureTimeouts,
        long objectsTrimmed,
        long replayedObjects,
        long replayedEntries,
        long replayDamagedObjects,
        long replayLostEntries,
        boolean fenced) {
}
