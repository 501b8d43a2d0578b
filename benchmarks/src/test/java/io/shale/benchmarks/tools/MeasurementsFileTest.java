package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeasurementsFileTest {

    @Test
    void aNewFileShouldGetTheHeaderAndTheSection() {
        String out = MeasurementsFile.merge(null, "memory", "## Heap\n\n| a |\n");
        assertThat(out).startsWith("# Shale measurements");
        assertThat(MeasurementsFile.sections(out)).containsOnlyKeys("memory");
        assertThat(MeasurementsFile.sections(out).get("memory")).isEqualTo("## Heap\n\n| a |\n");
    }

    @Test
    void writingASectionShouldReplaceItAndKeepTheOthersInTheirOrder() {
        String first = MeasurementsFile.merge(null, "coldread", "cold v1");
        String second = MeasurementsFile.merge(first, "requests", "requests v1");
        String third = MeasurementsFile.merge(second, "coldread", "cold v2\n");
        assertThat(MeasurementsFile.sections(third)).containsExactly(
                java.util.Map.entry("requests", "requests v1\n"), java.util.Map.entry("coldread", "cold v2\n"));
        assertThat(third).doesNotContain("cold v1");
        assertThat(third.indexOf("requests v1")).isLessThan(third.indexOf("cold v2"));
    }

    @Test
    void sectionsOfUnknownToolsShouldBeKeptAfterTheKnownOnes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/MEASUREMENTS.md");
        MeasurementsFile.write(file, "custom", "custom section");
        MeasurementsFile.write(file, "memory", "memory section");
        String content = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(MeasurementsFile.sections(content)).containsOnlyKeys("memory", "custom");
        assertThat(content.indexOf("memory section")).isLessThan(content.indexOf("custom section"));
    }
}
