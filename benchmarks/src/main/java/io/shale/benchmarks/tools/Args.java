package io.shale.benchmarks.tools;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The tools' command line: {@code --name value} options and {@code --flag} switches, nothing
 * positional. Unknown names and missing values are {@link IllegalArgumentException}s, which the
 * tools turn into a usage message and exit status 2. Not thread-safe (used on the main thread).
 */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    private Args() {
    }

    /**
     * Parses {@code args}; {@code options} are the names that take a value, {@code flags} those
     * that do not (all without the leading {@code --}).
     */
    static Args parse(String[] args, Set<String> options, Set<String> flags) {
        Args out = new Args();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            if (flags.contains(name)) {
                out.values.put(name, "true");
            } else if (options.contains(name)) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after " + a);
                }
                out.values.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("unknown option " + a);
            }
        }
        return out;
    }

    boolean flag(String name) {
        return values.containsKey(name);
    }

    String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    int integer(String name, int defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(v.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a whole number, got '" + v + "'");
        }
    }

    /** A size in bytes: a number with an optional binary suffix k, m or g (also KiB, MiB, GiB). */
    long bytes(String name, long defaultValue) {
        String v = values.get(name);
        return v == null ? defaultValue : parseBytes("--" + name, v);
    }

    /** A comma-separated list of whole numbers, e.g. {@code 1,100,10000}. */
    List<Integer> integers(String name, List<Integer> defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        List<Integer> out = new ArrayList<>();
        for (String s : v.split(",")) {
            try {
                out.add(Integer.parseInt(s.trim().replace("_", "")));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + name + " needs comma-separated whole numbers, got '" + v + "'");
            }
        }
        return out;
    }

    /** A comma-separated list of words, each of which must be one of {@code allowed}. */
    List<String> words(String name, List<String> defaultValue, Set<String> allowed) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            String w = s.trim().toLowerCase(Locale.ROOT);
            if (!allowed.contains(w)) {
                throw new IllegalArgumentException("--" + name + ": '" + w + "' is not one of " + allowed);
            }
            out.add(w);
        }
        return out;
    }

    static long parseBytes(String what, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace("_", "");
        if (t.endsWith("ib")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        String number = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long n = Long.parseLong(number);
            if (n < 0 || n > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return n * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " needs a size such as 256m or 1g, got '" + text + "'");
        }
    }
}
