package io.shale.benchmarks.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code benchmarks/MEASUREMENTS.md}: one section per tool, each between its own markers, so that
 * a tool's run replaces its section and leaves the others alone. RESULTS.md (written by
 * {@code ResultsReport} from JMH) links to it. Sections are kept in a fixed order (the order of
 * {@link #ORDER}; unknown ones after it). Not safe for two tools writing the same file at once;
 * measure.sh runs them one after another.
 */
final class MeasurementsFile {
    /** Section ids in the order they appear. */
    static final List<String> ORDER = List.of("requests", "objectwal", "coldread", "memory");

    static final String HEADER = """
            # Shale measurements

            Figures that JMH does not measure well: object-store requests per GiB, object-WAL append latency
            against the store's PUT latency, cold catch-up reads against raw ranged GETs, and heap per idle
            partition. Each section is written by one tool of `io.shale.benchmarks.tools` (run them with
            `benchmarks/measure.sh`; see benchmarks/README.md, "Measurement tools") and is replaced by that
            tool's next run, so sections may come from different runs: each names its own time, machine and
            command. Compare figures only within a section. JMH results are in [RESULTS.md](RESULTS.md).
            """;

    private static final Pattern SECTION = Pattern.compile(
            "<!-- BEGIN measure:([a-z0-9-]+) -->\\n(.*?)<!-- END measure:\\1 -->", Pattern.DOTALL);

    private MeasurementsFile() {
    }

    /** Writes {@code markdown} as section {@code id} of {@code file}, keeping the file's other sections. */
    static void write(Path file, String id, String markdown) throws IOException {
        String existing = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, merge(existing, id, markdown), StandardCharsets.UTF_8);
    }

    /** The file's new content: {@code existing} (null if none) with section {@code id} set to {@code markdown}. */
    static String merge(String existing, String id, String markdown) {
        Map<String, String> sections = existing == null ? new LinkedHashMap<>() : sections(existing);
        sections.put(id, markdown.endsWith("\n") ? markdown : markdown + "\n");
        List<String> ids = new ArrayList<>();
        for (String known : ORDER) {
            if (sections.containsKey(known)) {
                ids.add(known);
            }
        }
        for (String other : sections.keySet()) {
            if (!ORDER.contains(other)) {
                ids.add(other);
            }
        }
        StringBuilder out = new StringBuilder(HEADER);
        for (String s : ids) {
            out.append("\n<!-- BEGIN measure:").append(s).append(" -->\n")
               .append(sections.get(s))
               .append("<!-- END measure:").append(s).append(" -->\n");
        }
        return out.toString();
    }

    /** The sections of a file's content, by id, in file order. */
    static Map<String, String> sections(String content) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = SECTION.matcher(content);
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }
}
