/**
 * Turns JMH's JSON result file into {@code RESULTS.md} (machine, command, every benchmark's MB/s,
 * records/s and latency percentiles, targets and peer/limit ratios) and PNG charts drawn with
 * Java2D. Entry point: {@link io.shale.benchmarks.report.ResultsReport}. No dependency beyond the
 * JDK: the JSON reader is the small one in this package.
 */
package io.shale.benchmarks.report;
