package io.shale.log;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A table of named settings with defaults and validation, shared by {@link TopicConfig} and
 * {@link StoreConfig}. Values are kept as parsed objects; errors name the key and the bad value.
 */
final class ConfigDef {
    private final String what;
    private final Map<String, Key<?>> keys = new LinkedHashMap<>();

    ConfigDef(String what) {
        this.what = what;
    }

    record Key<T>(String name, T defaultValue, Function<String, T> parser, String doc) {
    }

    <T> Key<T> define(String name, T defaultValue, Function<String, T> parser, String doc) {
        Key<T> k = new Key<>(name, defaultValue, parser, doc);
        keys.put(name, k);
        return k;
    }

    Key<Long> longKey(String name, long def, long min, long max, String doc) {
        return define(name, def, s -> {
            long v;
            try {
                v = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw bad(name, s, "not an integer");
            }
            if (v < min || v > max) {
                throw bad(name, s, "must be between " + min + " and " + max);
            }
            return v;
        }, doc);
    }

    Key<Integer> intKey(String name, int def, int min, int max, String doc) {
        return define(name, def, s -> {
            int v;
            try {
                v = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw bad(name, s, "not a 32-bit integer");
            }
            if (v < min || v > max) {
                throw bad(name, s, "must be between " + min + " and " + max);
            }
            return v;
        }, doc);
    }

    Key<Double> doubleKey(String name, double def, double min, double max, String doc) {
        return define(name, def, s -> {
            double v;
            try {
                v = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw bad(name, s, "not a number");
            }
            if (!(v >= min && v <= max)) {
                throw bad(name, s, "must be between " + min + " and " + max);
            }
            return v;
        }, doc);
    }

    <E> Key<E> enumKey(String name, E def, Map<String, E> byName, String doc) {
        return define(name, def, s -> {
            E v = byName.get(s.trim().toLowerCase(Locale.ROOT));
            if (v == null) {
                throw bad(name, s, "must be one of " + byName.keySet());
            }
            return v;
        }, doc);
    }

    Map<Key<?>, Object> parse(Map<String, ?> values) {
        Map<Key<?>, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            Key<?> k = keys.get(e.getKey());
            if (k == null) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                        "unknown " + what + " config '" + e.getKey() + "'; known: " + new TreeMap<>(keys).keySet());
            }
            if (e.getValue() == null) {
                throw bad(k.name(), "null", "must not be null");
            }
            out.put(k, k.parser().apply(String.valueOf(e.getValue())));
        }
        return out;
    }

    Map<String, Key<?>> keys() {
        return Collections.unmodifiableMap(keys);
    }

    ShaleException bad(String name, String value, String why) {
        return new ShaleException(ErrorKind.INVALID_ARGUMENT,
                "invalid value '" + value + "' for " + what + " config '" + name + "': " + why);
    }
}
