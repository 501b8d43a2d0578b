package io.shale.benchmarks.tools;

import io.shale.benchmarks.report.Fmt;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The markdown a tool prints and stores in MEASUREMENTS.md: paragraphs, tables and notes, after a
 * heading with the run's time, machine and command (added by {@link Tool}). Not thread-safe.
 */
final class Section {
    private final StringBuilder body = new StringBuilder();
    private final List<String> notes = new ArrayList<>();

    Section paragraph(String text) {
        body.append(text).append("\n\n");
        return this;
    }

    Section heading(String text) {
        body.append("### ").append(text).append("\n\n");
        return this;
    }

    /** A table; {@code align} has one letter per column, {@code l} or {@code r}. */
    Section table(String[] header, String align, List<String[]> rows) {
        if (align.length() != header.length) {
            throw new IllegalArgumentException("align '" + align + "' does not match " + header.length + " columns");
        }
        body.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.length; i++) {
            body.append(align.charAt(i) == 'r' ? "---:|" : "---|");
        }
        body.append('\n');
        for (String[] r : rows) {
            body.append('|');
            for (String cell : r) {
                body.append(' ').append(cell == null ? Fmt.NONE : cell.replace("|", "\\|").replace("\n", " ")).append(" |");
            }
            body.append('\n');
        }
        body.append('\n');
        return this;
    }

    /** A line for the "Notes" list at the end. */
    Section note(String text) {
        notes.add(text);
        return this;
    }

    String body() {
        StringBuilder out = new StringBuilder(body);
        if (!notes.isEmpty()) {
            out.append("Notes:\n\n");
            notes.forEach(n -> out.append("- ").append(n).append('\n'));
            out.append('\n');
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- formatting helpers

    /** A number with few significant digits ("1,460", "27.2", "0.611"); a dash for NaN. */
    static String num(double v) {
        return Fmt.num(v);
    }

    /** A count with thousands separators. */
    static String count(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    /** A ratio ("1.33×"); a dash when the denominator is 0. */
    static String ratio(double a, double b) {
        return b == 0 || Double.isNaN(a) || Double.isNaN(b) ? Fmt.NONE : Fmt.ratio(a / b);
    }

    /** Bytes in binary units ("16.0 MiB"). */
    static String bytes(double v) {
        if (Double.isNaN(v)) {
            return Fmt.NONE;
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f B", v) : Fmt.num(v) + " " + units[u];
    }

    /** A percentage with three significant digits ("0.412 %"). */
    static String percent(double fraction) {
        return Double.isNaN(fraction) ? Fmt.NONE : Fmt.num(fraction * 100) + " %";
    }

    /** "met" / "not met" for a figure against a goal (nothing to judge when the figure is missing). */
    static String verdict(boolean measured, boolean met) {
        return !measured ? "not measured" : met ? "met" : "not met";
    }
}
