package io.shale.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The project's markdown points only at what is in the repository: every relative link (and its
 * {@code #anchor}) resolves, every file named {@code *.md} exists, every "RFC NNNN" has its file
 * under docs/rfcs, and every path in backticks that starts at a top-level directory exists
 * (build output under target/ aside).
 */
class DocsLinksTest {

    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern MD_MENTION = Pattern.compile("(?<![\\w/.#-])((?:[\\w.-]+/)*[\\w-]+\\.md)\\b");
    private static final Pattern RFC_MENTION = Pattern.compile("\\bRFC (\\d{4})\\b");
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`\\n]+)`");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,}).*$");

    @Test
    void markdownPointsOnlyAtFilesInTheRepository() throws IOException {
        Path root = Repository.root();
        List<Path> docs = markdownFiles(root);
        assertThat(docs).extracting(p -> root.relativize(p).toString())
                .contains("README.md", "docs/rfcs/README.md", "benchmarks/README.md");
        Set<String> mdNames = docs.stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        List<String> problems = new ArrayList<>();
        for (Path doc : docs) {
            problems.addAll(check(root, doc, mdNames));
        }
        assertThat(problems).as("dangling references in the repository's markdown").isEmpty();
    }

    /** The checks must see what the issue reported: a DESIGN.md and an RFC 0002 that do not exist. */
    @Test
    void danglingReferencesAreFound() throws IOException {
        Path root = Repository.root();
        Path doc = root.resolve("README.md");
        String text = """
                # Title

                See DESIGN.md and [RFC 0002](docs/rfcs/0002-object-wal.md); also [here](#no-such-heading),
                [fine](#title), [fine too](docs/rfcs/README.md), `log-core/src/no/such/File.java`,
                `log-core/target/anything.jar` (build output) and [web](https://example.com/DESIGN.md).

                ```
                [not a link](nowhere.md) inside a code block, RFC 0009
                ```
                """;
        Set<String> mdNames = markdownFiles(root).stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        assertThat(check(root, doc, text, mdNames)).containsExactlyInAnyOrder(
                "README.md line 3: DESIGN.md is not in the repository",
                "README.md line 3: link to docs/rfcs/0002-object-wal.md: no such file",
                "README.md line 3: RFC 0002 has no file docs/rfcs/0002-*.md",
                "README.md line 3: link to #no-such-heading: no such heading in README.md",
                "README.md line 4: path log-core/src/no/such/File.java does not exist");
    }

    private static List<Path> markdownFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.toString().endsWith(".md") && Files.isRegularFile(p))
                    .filter(p -> {
                        for (Path part : root.relativize(p)) {
                            String name = part.toString();
                            if (name.equals("target") || name.startsWith(".") || name.equals("node_modules")) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted().toList();
        }
    }

    private static List<String> check(Path root, Path doc, Set<String> mdNames) throws IOException {
        return check(root, doc, Files.readString(doc), mdNames);
    }

    private static List<String> check(Path root, Path doc, String text, Set<String> mdNames) throws IOException {
        String name = root.relativize(doc).toString();
        List<String> problems = new ArrayList<>();
        List<String> lines = text.lines().toList();
        String fence = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher f = FENCE.matcher(line);
            if (f.matches()) {
                String marker = f.group(1);
                if (fence == null) {
                    fence = marker;
                    continue;
                }
                String closing = line.strip();
                if (closing.startsWith(fence) && closing.chars().allMatch(c -> c == marker.charAt(0))) {
                    fence = null;
                    continue;
                }
            }
            if (fence != null) {
                continue;
            }
            String where = name + " line " + (i + 1) + ": ";
            String prose = CODE_SPAN.matcher(line).replaceAll(" ");
            Matcher link = LINK.matcher(prose);
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                    continue; // https:, mailto:, ...
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                String anchor = hash < 0 ? null : target.substring(hash + 1);
                Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
                if (!resolved.startsWith(root) || !Files.exists(resolved)) {
                    problems.add(where + "link to " + target + ": no such file");
                    continue;
                }
                if (anchor != null && resolved.toString().endsWith(".md")) {
                    String headingsOf = resolved.equals(doc) ? text : Files.readString(resolved);
                    if (!slugs(headingsOf).contains(anchor)) {
                        problems.add(where + "link to " + target + ": no such heading in " + root.relativize(resolved));
                    }
                }
            }
            Matcher md = MD_MENTION.matcher(line);
            while (md.find()) {
                String mention = md.group(1);
                if (insideLinkTarget(line, md.start(1))) {
                    continue;
                }
                boolean exists = mention.contains("/")
                        ? Files.exists(doc.getParent().resolve(mention)) || Files.exists(root.resolve(mention))
                        : mdNames.contains(mention);
                if (!exists) {
                    problems.add(where + mention + " is not in the repository");
                }
            }
            Matcher rfc = RFC_MENTION.matcher(line);
            while (rfc.find()) {
                String number = rfc.group(1);
                try (Stream<Path> rfcs = Files.list(root.resolve("docs/rfcs"))) {
                    if (rfcs.noneMatch(p -> p.getFileName().toString().startsWith(number + "-"))) {
                        problems.add(where + "RFC " + number + " has no file docs/rfcs/" + number + "-*.md");
                    }
                }
            }
            Matcher code = CODE_SPAN.matcher(line);
            while (code.find()) {
                String path = code.group(1).strip();
                int slash = path.indexOf('/');
                if (slash <= 0 || !path.matches("[\\w./-]+") || path.contains("://")) {
                    continue;
                }
                String top = path.substring(0, slash);
                boolean repoPath = !top.equals(".") && !top.equals("..") && !top.equals("target") && Files.isDirectory(root.resolve(top));
                boolean buildOutput = path.contains("target/") || path.endsWith("/target");
                if (repoPath && !buildOutput && !Files.exists(root.resolve(path))) {
                    problems.add(where + "path " + path + " does not exist");
                }
            }
        }
        return problems;
    }

    private static boolean insideLinkTarget(String line, int index) {
        int open = line.lastIndexOf("](", index);
        return open >= 0 && line.indexOf(')', open) >= index;
    }

    /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
    static Set<String> slugs(String markdown) {
        Set<String> slugs = new HashSet<>();
        String fence = null;
        for (String line : markdown.lines().toList()) {
            Matcher f = FENCE.matcher(line);
            if (f.matches()) {
                fence = fence == null ? f.group(1) : null;
                continue;
            }
            Matcher h = HEADING.matcher(line);
            if (fence == null && h.matches()) {
                String slug = h.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
                String unique = slug;
                for (int n = 1; !slugs.add(unique); n++) {
                    unique = slug + "-" + n;
                }
            }
        }
        return slugs;
    }
}
