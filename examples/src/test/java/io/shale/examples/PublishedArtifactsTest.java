package io.shale.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The build publishes what a user needs and nothing else: each module is either published (and then
 * in the BOM, with the POM metadata Maven Central requires and an Automatic-Module-Name) or test-only
 * and never deployed; the BOM pins nothing but Shale; the README's coordinates name real artifacts
 * at the current version; LICENSE is the Apache License 2.0 word for word.
 */
class PublishedArtifactsTest {

    /** Modules that exist for testing and measuring only: never deployed. */
    private static final Set<String> TEST_ONLY = Set.of("shale-examples", "shale-reliability", "shale-benchmarks");
    /** Artifacts the BOM lists ahead of their modules being merged (they are being built on other branches). */
    private static final Set<String> PLANNED = Set.of("shale-cli", "shale-metrics-micrometer");
    /** SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt (the same bytes as Debian's common-licenses/Apache-2.0). */
    private static final String APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30";

    private static Path root;
    private static Element parent;
    private static final Map<String, Element> MODULES = new LinkedHashMap<>(); // artifactId -> pom

    @BeforeAll
    static void readPoms() throws Exception {
        root = Repository.root();
        parent = pom(root.resolve("pom.xml"));
        for (Element module : children(child(parent, "modules").orElseThrow(), "module")) {
            Element pom = pom(root.resolve(module.getTextContent().strip()).resolve("pom.xml"));
            MODULES.put(text(pom, "artifactId"), pom);
        }
    }

    @Test
    void everyModuleIsEitherPublishedOrNeverDeployed() {
        assertThat(MODULES.keySet()).containsAll(TEST_ONLY).contains("shale-bom", "shale-log-core");
        for (Map.Entry<String, Element> m : MODULES.entrySet()) {
            String deploySkip = property(m.getValue(), "maven.deploy.skip").orElse("false");
            assertThat(deploySkip).as("maven.deploy.skip of " + m.getKey()).isEqualTo(TEST_ONLY.contains(m.getKey()) ? "true" : "false");
        }
    }

    @Test
    void theBomManagesEveryPublishedArtifactAndNothingElse() {
        Element bom = MODULES.get("shale-bom");
        assertThat(child(bom, "parent")).as("the BOM has no parent (its dependencyManagement would leak into importers)").isEmpty();
        assertThat(text(bom, "version")).as("BOM version").isEqualTo(text(parent, "version"));
        assertThat(text(bom, "packaging")).isEqualTo("pom");
        Set<String> managed = new TreeSet<>();
        for (Element d : children(child(child(bom, "dependencyManagement").orElseThrow(), "dependencies").orElseThrow(), "dependency")) {
            assertThat(text(d, "groupId")).as("the BOM manages Shale's artifacts only").isEqualTo("io.shale");
            assertThat(text(d, "version")).isEqualTo("${project.version}");
            assertThat(child(d, "scope")).as("scope of " + text(d, "artifactId")).isEmpty();
            assertThat(managed.add(text(d, "artifactId"))).as("listed twice: " + text(d, "artifactId")).isTrue();
        }
        Set<String> published = new TreeSet<>(MODULES.keySet());
        published.removeAll(TEST_ONLY);
        published.remove("shale-bom");
        Set<String> expected = new TreeSet<>(published);
        for (String planned : PLANNED) {
            expected.add(planned); // already a module once merged; listed either way
        }
        assertThat(managed).isEqualTo(expected);
    }

    @Test
    void publishedPomsCarryWhatMavenCentralRequires() {
        assertThat(text(parent, "url")).startsWith("https://");
        assertThat(text(parent, "description")).isNotBlank();
        Element license = children(child(parent, "licenses").orElseThrow(), "license").get(0);
        assertThat(text(license, "name")).isEqualTo("Apache-2.0");
        assertThat(text(license, "url")).isEqualTo("https://www.apache.org/licenses/LICENSE-2.0.txt");
        assertThat(children(child(parent, "developers").orElseThrow(), "developer")).isNotEmpty();
        Element scm = child(parent, "scm").orElseThrow();
        assertThat(List.of(text(scm, "connection"), text(scm, "developerConnection"), text(scm, "url"))).allSatisfy(
                s -> assertThat(s).isNotBlank());
        Element bom = MODULES.get("shale-bom");
        for (String tag : List.of("url", "licenses", "developers", "scm")) {
            assertThat(child(bom, tag)).as("the BOM's own " + tag + " (it has no parent)").isPresent();
        }
        for (Map.Entry<String, Element> m : MODULES.entrySet()) {
            if (!TEST_ONLY.contains(m.getKey())) {
                // name is not inherited; description is, but the parent's would describe the whole project
                assertThat(text(m.getValue(), "name")).as("name of " + m.getKey()).isNotBlank();
                assertThat(text(m.getValue(), "description")).as("description of " + m.getKey()).isNotBlank();
            }
        }
    }

    @Test
    void everyJarModuleNamesItsModule() {
        Set<String> names = new TreeSet<>();
        for (Map.Entry<String, Element> m : MODULES.entrySet()) {
            if (child(m.getValue(), "packaging").map(Node::getTextContent).orElse("jar").equals("pom")) {
                continue;
            }
            String name = property(m.getValue(), "shale.automaticModuleName").orElse("");
            assertThat(name).as("shale.automaticModuleName of " + m.getKey()).startsWith("io.shale.");
            ModuleDescriptor.newModule(name); // throws on an illegal module name
            assertThat(names.add(name)).as("module name used twice: " + name).isTrue();
        }
        assertThat(property(MODULES.get("shale-log-core"), "shale.automaticModuleName")).contains("io.shale.log");
    }

    @Test
    void theReadmesCoordinatesNameRealArtifactsAtTheCurrentVersion() throws IOException {
        String readme = Files.readString(root.resolve("README.md"));
        Matcher xml = Pattern.compile("```xml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(xml.find()).as("an xml block in README.md").isTrue();
        String block = xml.group(1);
        assertThat(block).contains("<artifactId>shale-bom</artifactId>", "<scope>import</scope>",
                "<version>" + text(parent, "version") + "</version>");
        Matcher artifact = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(block);
        List<String> named = new ArrayList<>();
        while (artifact.find()) {
            named.add(artifact.group(1));
        }
        Set<String> published = new TreeSet<>(MODULES.keySet());
        published.removeAll(TEST_ONLY);
        assertThat(named).contains("shale-storage-local", "shale-storage-s3").allSatisfy(a -> assertThat(published).contains(a));
        Matcher version = Pattern.compile("io\\.shale:shale-bom:([^\")]+)").matcher(readme);
        while (version.find()) {
            assertThat(version.group(1)).as("version in " + version.group()).isEqualTo(text(parent, "version"));
        }
    }

    @Test
    void licenseIsTheApacheLicenseVerbatim() throws Exception {
        byte[] license = Files.readAllBytes(root.resolve("LICENSE"));
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(license)))
                .as("SHA-256 of LICENSE").isEqualTo(APACHE_2_SHA256);
    }

    // ------------------------------------------------------------------ DOM helpers

    private static Element pom(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
    }

    private static List<Element> children(Element e, String tag) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(tag)) {
                out.add(c);
            }
        }
        return out;
    }

    private static Optional<Element> child(Element e, String tag) {
        List<Element> c = children(e, tag);
        return c.isEmpty() ? Optional.empty() : Optional.of(c.get(0));
    }

    private static String text(Element e, String tag) {
        return child(e, tag).map(c -> c.getTextContent().strip()).orElse("");
    }

    private static Optional<String> property(Element pom, String name) {
        return child(pom, "properties").flatMap(p -> child(p, name)).map(c -> c.getTextContent().strip());
    }
}
