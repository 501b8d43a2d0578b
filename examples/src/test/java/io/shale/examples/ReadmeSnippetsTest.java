package io.shale.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.shale.examples.ReadmeSnippets.Snippet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of README.md compiles as written and runs without an exception in a
 * fresh directory (see {@link ReadmeSnippets} for the rules), and the harness itself fails on a
 * block that does not compile, throws, or has nothing to run.
 */
class ReadmeSnippetsTest {

    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> everyJavaBlockOfTheReadmeCompilesAndRuns() throws IOException {
        String readme = Files.readString(Repository.root().resolve("README.md"));
        List<Snippet> snippets = ReadmeSnippets.extract("README.md", readme);
        assertThat(snippets).as("java blocks in README.md").hasSizeGreaterThanOrEqualTo(2);
        assertThat(snippets).as("README.md blocks that run").filteredOn(s -> !s.compileOnly()).isNotEmpty();
        return IntStream.range(0, snippets.size()).mapToObj(i -> dynamicTest(snippets.get(i).name(),
                () -> ReadmeSnippets.check(snippets.get(i), "ReadmeSnippet" + i,
                        Files.createDirectories(tmp.resolve("snippet-" + i)))));
    }

    // ------------------------------------------------------------------ the harness can fail

    /** The README's tour before this test existed: {@code Record} is ambiguous with java.lang.Record. */
    @Test
    void aBlockThatDoesNotCompileFailsNamingTheLine() {
        Snippet s = only("""
                Some text.

                ```java
                import io.shale.log.*;
                import io.shale.log.record.*;

                FetchResult f = null;
                for (Record rec : f.records()) { }
                ```
                """);
        assertThatThrownBy(() -> ReadmeSnippets.check(s, "Ambiguous", tmp))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("README.md line 4 does not compile")
                .hasMessageContaining("README.md line 8: reference to Record is ambiguous");
    }

    /** The tour's old last line on its own data: DeleteRecords above the high watermark. */
    @Test
    void aBlockThatThrowsFails() {
        Snippet s = only("""
                ```java
                import io.shale.log.LogStore;
                import io.shale.log.TopicPartition;
                import io.shale.log.record.SimpleRecord;
                import io.shale.storage.local.LocalStorage;
                import java.nio.file.Path;
                import java.util.List;

                try (LogStore store = LocalStorage.builder(Path.of("data")).open()) {
                    store.createTopic("orders", 1);
                    TopicPartition tp = TopicPartition.of("orders", 0);
                    store.append(tp, List.of(SimpleRecord.of("k", "v"))).join();
                    store.deleteRecordsBefore(tp, 1_000);
                }
                ```
                """);
        assertThatThrownBy(() -> ReadmeSnippets.check(s, "DeleteTooFar", tmp))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("README.md line 2 failed (exit status 1)")
                .hasMessageContaining("OFFSET_OUT_OF_RANGE");
    }

    @Test
    void aClassWithoutMainFailsUnlessCompileOnly() throws Exception {
        String block = """
                ```java
                class Helpers {
                    static int answer() { return 42; }
                }
                ```
                """;
        assertThatThrownBy(() -> ReadmeSnippets.check(only(block), "Unused", tmp.resolve("run")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Helpers has no public static void main(String[])");
        // marked compile-only: compiled, not run
        ReadmeSnippets.check(only(ReadmeSnippets.COMPILE_ONLY + "\n" + block), "Unused", tmp.resolve("compile"));
    }

    @Test
    void aCompileOnlyBlockStillHasToCompile() {
        Snippet s = only(ReadmeSnippets.COMPILE_ONLY + "\n```java\nclass Broken { int x = \"text\"; }\n```\n");
        assertThat(s.compileOnly()).isTrue();
        assertThatThrownBy(() -> ReadmeSnippets.check(s, "Broken", tmp))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("README.md line 3: incompatible types");
    }

    @Test
    void aWholeProgramRunsInAFreshDirectoryGivenAsArgument() throws Exception {
        Snippet s = only("""
                ```java
                import java.nio.file.Files;
                import java.nio.file.Path;

                public class WhereAmI {
                    public static void main(String[] args) throws Exception {
                        Path here = Path.of("").toAbsolutePath();
                        if (!here.equals(Path.of(args[0])) || Files.list(here).findAny().isPresent()) {
                            throw new IllegalStateException("not run in a fresh directory: " + here);
                        }
                        Files.writeString(Path.of("proof"), "ran");
                    }
                }
                ```
                """);
        ReadmeSnippets.check(s, "Unused", tmp);
        assertThat(tmp.resolve("work/proof")).hasContent("ran");
    }

    @Test
    void onlyJavaBlocksAreTakenAndOtherFencesAreSkippedWhole() {
        List<Snippet> snippets = ReadmeSnippets.extract("X.md", """
                ```bash
                mvn verify
                ```

                ````markdown
                ```java
                not a block of X.md
                ```
                ````

                ```Java
                int a = 1;
                ```
                """);
        assertThat(snippets).extracting(Snippet::firstLine, Snippet::code, Snippet::compileOnly)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(12, "int a = 1;\n", false));
        assertThatThrownBy(() -> ReadmeSnippets.extract("X.md", "```java\nint a = 1;\n"))
                .hasMessageContaining("X.md line 1: code block is never closed");
    }

    private static Snippet only(String markdown) {
        List<Snippet> snippets = ReadmeSnippets.extract("README.md", markdown);
        assertThat(snippets).hasSize(1);
        return snippets.get(0);
    }
}
