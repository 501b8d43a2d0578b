package io.shale.benchmarks.report;

/** Converts JMH's score units ({@code ops/us}, {@code ms/op}, ...) to per-second rates and microseconds. */
final class Units {
    private Units() {
    }

    /** A rate in JMH's unit ({@code ops/ns|us|ms|s|min}) as a rate per second. */
    static double perSecond(double score, String unit) {
        if (!unit.startsWith("ops/")) {
            throw new IllegalArgumentException("not a rate unit: " + unit);
        }
        return score / secondsIn(unit.substring(4), unit);
    }

    /** A time per operation in JMH's unit ({@code ns|us|ms|s|min/op}) in microseconds. */
    static double micros(double score, String unit) {
        if (!unit.endsWith("/op")) {
            throw new IllegalArgumentException("not a time unit: " + unit);
        }
        return score * secondsIn(unit.substring(0, unit.length() - 3), unit) * 1e6;
    }

    private static double secondsIn(String timeUnit, String whole) {
        switch (timeUnit) {
            case "ns": return 1e-9;
            case "us": return 1e-6;
            case "ms": return 1e-3;
            case "s": return 1;
            case "min": return 60;
            default: throw new IllegalArgumentException("unknown time unit in " + whole);
        }
    }
}
