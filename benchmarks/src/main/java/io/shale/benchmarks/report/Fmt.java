package io.shale.benchmarks.report;

import java.util.Locale;
import java.util.OptionalDouble;

/** Number formatting for the report: few significant digits, thousands separators, a dash for "not measured". */
public final class Fmt {
    public static final String NONE = "–";

    private Fmt() {
    }

    /** Three significant figures or the whole number, whichever is longer ("0.53", "27.2", "1,460"). */
    public static String num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return NONE;
        }
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1 || a == 0) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    public static String num(OptionalDouble v) {
        return v.isPresent() ? num(v.getAsDouble()) : NONE;
    }

    /** A value with its confidence half-width, when there is one ("1,460 ± 32"). */
    public static String num(OptionalDouble v, OptionalDouble error) {
        if (v.isEmpty()) {
            return NONE;
        }
        return error.isPresent() ? num(v.getAsDouble()) + " ± " + num(error.getAsDouble()) : num(v.getAsDouble());
    }

    public static String ratio(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return NONE;
        }
        double a = Math.abs(v);
        String n = a >= 10 ? num(v) : a >= 0.1 || a == 0 ? String.format(Locale.ROOT, "%.2f", v)
                : String.format(Locale.ROOT, "%.2g", v);
        return n + "×";
    }

    public static String ratio(OptionalDouble a, OptionalDouble b) {
        if (a.isEmpty() || b.isEmpty() || b.getAsDouble() == 0) {
            return NONE;
        }
        return ratio(a.getAsDouble() / b.getAsDouble());
    }
}
