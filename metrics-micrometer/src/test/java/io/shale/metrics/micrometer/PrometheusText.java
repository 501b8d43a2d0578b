package io.shale.metrics.micrometer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The samples of a Prometheus text-format scrape, parsed by hand (so the test reads what a
 * Prometheus server would read, not Micrometer's objects): {@code name{label="value",...} number}.
 */
final class PrometheusText {
    record Sample(String name, Map<String, String> labels, double value) {
    }

    final String text;
    final List<Sample> samples = new ArrayList<>();

    PrometheusText(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            samples.add(parse(line));
        }
    }

    private static Sample parse(String line) {
        int brace = line.indexOf('{');
        int space = line.lastIndexOf(' ');
        String name;
        Map<String, String> labels = new LinkedHashMap<>();
        if (brace >= 0 && brace < space) {
            name = line.substring(0, brace);
            int end = line.lastIndexOf('}');
            String body = line.substring(brace + 1, end);
            int i = 0;
            while (i < body.length()) {
                int eq = body.indexOf('=', i);
                String key = body.substring(i, eq).trim();
                int q = eq + 2; // after ="
                StringBuilder v = new StringBuilder();
                while (body.charAt(q) != '"') {
                    if (body.charAt(q) == '\\') {
                        q++;
                    }
                    v.append(body.charAt(q));
                    q++;
                }
                labels.put(key, v.toString());
                i = q + 1;
                if (i < body.length() && body.charAt(i) == ',') {
                    i++;
                }
            }
        } else {
            name = line.substring(0, space);
        }
        return new Sample(name, labels, Double.parseDouble(line.substring(space + 1)));
    }

    /** The samples named {@code name} whose labels include {@code labels} (key, value, ...). */
    List<Sample> find(String name, String... labels) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < labels.length; i += 2) {
                if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
                    match = false;
                    break;
                }
            }
            if (match) {
                out.add(s);
            }
        }
        return out;
    }

    /** Sum of the matching samples' values; fails if none matches (a missing metric is a failure, not a zero). */
    double sum(String name, String... labels) {
        List<Sample> found = find(name, labels);
        if (found.isEmpty()) {
            throw new AssertionError("no sample " + name + " with labels " + String.join(",", labels) + " in:\n" + text);
        }
        return found.stream().mapToDouble(Sample::value).sum();
    }

    /** Sum of the matching samples' values, 0 if none. */
    double sumOrZero(String name, String... labels) {
        return find(name, labels).stream().mapToDouble(Sample::value).sum();
    }
}
