package io.shale.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Payload moved by one benchmark thread. JMH reports each public field as a secondary metric
 * normalised to time (type OPERATIONS): with the suite's {@code @OutputTimeUnit(MICROSECONDS)},
 * {@code bytes} in Throughput mode is bytes per microsecond, i.e. MB/s (10^6 bytes per second).
 * The report generator converts whatever unit it finds.
 *
 * <p>One instance per thread; benchmark methods add to the fields directly (no methods here,
 * because JMH would treat them as counters too).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class PayloadCounters {
    /** Payload bytes (record values, or raw bytes for the limits) written or read. */
    public long bytes;
    /** Records written or read (for the raw limits: {@link Workload#RECORD_BYTES} equivalents). */
    public long records;

    @Setup(Level.Iteration)
    public void reset() {
        bytes = 0;
        records = 0;
    }
}
