package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tools' measurements end to end on the local directory store, at tiny sizes (the S3 side runs in measure.sh --smoke). */
class ToolsTest {

    private static Args args(Tool tool, String... argv) {
        return Args.parse(argv, tool.options(), Set.of());
    }

    @Test
    void requestCountsShouldReportEveryPartitionCountAndTheMetadataShare(@TempDir Path dir) throws Exception {
        RequestCounts tool = new RequestCounts();
        Section out = new Section();
        tool.run(args(tool, "--stores", "local", "--partitions", "1,50", "--bytes", "2m", "--read-partitions", "10"), true,
                dir, out);
        String md = out.body();
        assertThat(md).contains("| local directory + file WAL | 1 |", "| local directory + file WAL | 50 |");
        assertThat(md).contains("### Stored bytes: metadata share", "### Cold reads: requests per GiB read back");
        assertThat(md).doesNotContain("### S3: HTTP requests per GiB");
        // 50 partitions, 10 read: the sample is reported
        assertThat(md).containsPattern("\\| local directory \\+ file WAL \\| 50 \\| 10 \\|");
    }

    @Test
    void requestCountsShouldRollEveryPartitionIntoASegmentBeforeTheColdReadWhenAsked(@TempDir Path dir) throws Exception {
        RequestCounts tool = new RequestCounts();
        Section out = new Section();
        tool.run(args(tool, "--stores", "local", "--partitions", "20", "--bytes", "1m", "--read-partitions", "5",
                "--roll-segment-ms", "1"), true, dir, out);
        String md = out.body();
        assertThat(md).contains("### Segment rolls before the cold read: what rolling sooner costs",
                "The topic was created with segment.ms = 1 ms");
        // every partition rolled: each appended byte rewritten once
        assertThat(md).containsPattern(
                "\\| local directory \\+ file WAL \\| 20 \\| [0-9.]+ \\| [0-9,.]+ \\| [0-9,.]+ \\| [0-9,.]+ \\| 1\\.00× \\|");
    }

    @Test
    void coldReadShouldCompareTheReaderWithRawGets(@TempDir Path dir) throws Exception {
        ColdRead tool = new ColdRead();
        Section out = new Section();
        tool.run(args(tool, "--stores", "local", "--bytes", "3m", "--rounds", "1"), true, dir, out);
        assertThat(out.body()).contains("| local directory | 1 |", "### GETs made");
    }

    @Test
    void dataObjectsCostShouldCompareBothWalLayoutsOnTheSameWorkload(@TempDir Path dir) throws Exception {
        DataObjectsCost tool = new DataObjectsCost();
        Section out = new Section();
        tool.run(args(tool, "--stores", "local", "--partitions", "1,8", "--bytes", "2m", "--in-flight", "64"), true, dir, out);
        String md = out.body();
        for (String mode : new String[] {"upload", "data-objects"}) {
            // data-objects PUTs each appended byte once, the upload layout twice (WAL object, then data object)
            assertThat(md).containsPattern("\\| local directory \\+ object WAL \\| 8 \\| " + mode + " \\| [0-9.]+ \\| [0-9,.]+ \\| "
                    + (mode.equals("upload") ? "2\\.00×" : "1\\.00×") + " \\|");
            // compaction reads every appended byte once and writes it once into segments, in both layouts
            assertThat(md).containsPattern("\\| local directory \\+ object WAL \\| 8 \\| " + mode
                    + " \\| [0-9.]+ \\| 1\\.00× \\| 1\\.00× \\| 2\\.00× \\|");
        }
        assertThat(md).contains("### Data-objects against upload, same workload", "### Cold reads after compaction");
    }

    @Test
    void idlePartitionMemoryShouldReportBytesPerPartitionForEachShape(@TempDir Path dir) throws Exception {
        IdlePartitionMemory tool = new IdlePartitionMemory();
        Section out = new Section();
        tool.run(args(tool, "--shapes", "1x200,4x50"), true, dir, out);
        assertThat(out.body()).contains("| 1 × 200 | 200 |", "| 4 × 50 | 200 |");
    }
}
