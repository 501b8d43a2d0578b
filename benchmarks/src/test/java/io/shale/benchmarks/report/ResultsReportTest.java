package io.shale.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture (src/test/resources/jmh-fixture.json) has JMH's layout with chosen figures in mixed
 * units; the expected values below were worked out by hand from those figures.
 */
class ResultsReportTest {

    @TempDir
    Path tmp;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private static String fixture() throws IOException {
        try (InputStream in = ResultsReportTest.class.getResourceAsStream("/jmh-fixture.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<Row> rows() throws IOException {
        return Row.merge(JmhResult.parseAll(fixture()));
    }

    private static Row row(List<Row> rows, String label, String params) {
        return rows.stream().filter(r -> r.label().equals(label) && r.paramText().equals(params)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + label + " " + params));
    }

    @Test
    void mergeShouldJoinThroughputAndSampleRunsOfTheSameParameters() throws IOException {
        List<Row> rows = rows();

        assertThat(rows).hasSize(10); // 11 results, two of them the same benchmark and parameters
        Row raw = row(rows, "FsyncLimitBenchmark.writeAndSync", "file=PREALLOCATED, groupBytes=16384");
        assertThat(raw.throughput).isNotNull();
        assertThat(raw.sample).isNotNull();
    }

    @Test
    void rowsShouldConvertCountersAndPercentilesWhateverTheUnit() throws IOException {
        List<Row> rows = rows();

        Row raw = row(rows, "FsyncLimitBenchmark.writeAndSync", "file=PREALLOCATED, groupBytes=16384");
        assertThat(raw.mbPerSecond().getAsDouble()).isCloseTo(180.224, within(1e-9)); // 180.224 bytes/us
        assertThat(raw.percentileMicros("99.0").getAsDouble()).isCloseTo(150.0, within(1e-9)); // 0.15 ms
        Row flush = row(rows, "KafkaLogAppendBenchmark.append", "flush=true, recordBytes=1024, recordsPerBatch=16");
        assertThat(flush.mbPerSecond().getAsDouble()).isCloseTo(40.0, within(1e-9)); // 40,000 bytes/ms
        Row single = row(rows, "ShaleAppendBenchmark.appendBatchSingleProducer", "recordBytes=1024, recordsPerBatch=16");
        assertThat(single.percentileMicros("99.0").getAsDouble()).isCloseTo(200.0, within(1e-9)); // 0.0002 s
        assertThat(single.mbPerSecond()).isEmpty(); // sample mode only: no counters
    }

    @Test
    void allocationShouldBeNormalisedPerRecordNotPerOperation() throws IOException {
        Row append = row(rows(), "ShaleAppendBenchmark.appendBatchPipelined", "recordBytes=1024, recordsPerBatch=16");

        // 800 B/op, 1,757,812.5 records/s over 109,863.28 ops/s = 16 records per op
        assertThat(append.allocBytesPerRecord().getAsDouble()).isCloseTo(50.0, within(1e-9));
    }

    @Test
    void targetsShouldUseFiguresOfTheDefaultWorkloadFromTheSameRun() throws IOException {
        List<String[]> targets = new Comparisons(rows()).targets();

        // 1,800 MB/s vs Kafka 1,500 (no flush) and 40 (flush)
        assertThat(targets.get(0)).containsExactly("Durable append (4 producers, 32 in flight each) vs Kafka append, no flush (not durable)",
                "1,800 MB/s", "1,500 MB/s", "1.20×", "≥ 1.00×", "met");
        assertThat(targets.get(1)[3]).isEqualTo("45.0×");
        assertThat(targets.get(1)[5]).isEqualTo("met");
        // p99 200 µs vs raw preallocated 150 µs
        assertThat(targets.get(2)[3]).isEqualTo("1.33×");
        assertThat(targets.get(2)[5]).isEqualTo("met");
        // 11,700 MB/s (the 1 KiB row, not the 100-byte one listed first) vs Chronicle 9,000
        assertThat(targets.get(3)[1]).isEqualTo("11,700 MB/s");
        assertThat(targets.get(3)[3]).isEqualTo("1.30×");
        assertThat(targets.get(4)[1]).isEqualTo("50.0 B");
        assertThat(targets.get(4)[5]).isEqualTo("met");
    }

    @Test
    void targetsShouldSayNotMeasuredWhenOneSideIsMissing() throws IOException {
        List<Row> withoutKafka = rows().stream().filter(r -> !r.className().startsWith("Kafka")).toList();

        List<String[]> targets = new Comparisons(withoutKafka).targets();

        assertThat(targets.get(0)[5]).isEqualTo("not measured");
        assertThat(targets.get(0)[3]).isEqualTo(Fmt.NONE);
    }

    @Test
    void targetsShouldReportAMissedGoal() throws IOException {
        String slowShale = fixture().replace("1800000000.0", "1000000000.0"); // 1,000 MB/s < Kafka's 1,500

        List<String[]> targets = new Comparisons(Row.merge(JmhResult.parseAll(slowShale))).targets();

        assertThat(targets.get(0)[3]).isEqualTo("0.67×");
        assertThat(targets.get(0)[5]).isEqualTo("not met");
    }

    @Test
    void peersShouldBeDividedByShaleAndByTheirLimit() throws IOException {
        List<String[]> lines = new Comparisons(rows()).peersAndLimits();

        String[] kafka = lines.get(0);
        assertThat(kafka[1]).isEqualTo("1,500");
        assertThat(kafka[4]).isEqualTo("0.83×"); // 1,500 / 1,800
        String[] kafkaFlush = lines.get(1);
        assertThat(kafkaFlush[5]).isEqualTo("0.51×"); // 40 / 78 (raw growing 16 KiB)
        String[] shale = lines.get(5);
        assertThat(shale[5]).isEqualTo("0.54×"); // 1,800 / 3,355 (best preallocated: 1 MiB groups)
        assertThat(shale[6]).contains("1048576 B groups");
    }

    @Test
    void writeShouldProduceMarkdownAndChartsMarkedAsSmokeInQuickMode() throws IOException {
        Path json = tmp.resolve("jmh-quick.json");
        Files.writeString(json, fixture());
        ResultsReport.Options options = ResultsReport.parse(new String[] {"--json", json.toString(), "--out",
            tmp.resolve("RESULTS.md").toString(), "--mode", "quick", "--command", "benchmarks/run.sh quick",
            "--bench-dir", tmp.toString(), "--note", "Shale benchmarks: not run"});

        List<Path> written = ResultsReport.write(options);

        assertThat(written).containsExactly(tmp.resolve("RESULTS.md"), tmp.resolve("results/throughput.png"),
                tmp.resolve("results/latency.png"));
        String md = Files.readString(tmp.resolve("RESULTS.md"));
        assertThat(md).contains("SMOKE RUN").contains("benchmarks/run.sh quick").contains("- Shale benchmarks: not run")
                .contains("![Throughput, MB/s](results/throughput.png)")
                .contains("| FsyncLimitBenchmark.writeAndSync | file=PREALLOCATED, groupBytes=16384 | 1 | 180 |");
        BufferedImage png = ImageIO.read(tmp.resolve("results/throughput.png").toFile());
        assertThat(png.getWidth()).isEqualTo(Charts.WIDTH);
        assertThat(countPixels(png, Charts.SHALE.getRGB())).as("Shale bars").isGreaterThan(100);
        assertThat(countPixels(png, Charts.PEER.getRGB())).as("peer bars").isGreaterThan(100);
    }

    @Test
    void aLongerBarShouldMeanAHigherThroughput() throws IOException {
        Path png = tmp.resolve("t.png");
        List<Row> rows = rows().stream()
                .filter(r -> r.label().equals("ShaleReadBenchmark.cacheRead") || r.label().startsWith("Kafka"))
                .toList();

        Charts.throughput(rows, "t", png);

        BufferedImage image = ImageIO.read(png.toFile());
        // Kafka rows (1,500 and 40 MB/s) share one colour; Shale has 11,700 and 1 MB/s: its longest bar wins
        int shaleLongest = longestRun(image, Charts.SHALE.getRGB());
        int kafkaLongest = longestRun(image, Charts.PEER.getRGB());
        assertThat(shaleLongest).isGreaterThan(kafkaLongest);
    }

    @Test
    void fullModeShouldNotBeMarkedAsSmoke() throws IOException {
        Path json = tmp.resolve("jmh-full.json");
        Files.writeString(json, fixture());

        ResultsReport.write(ResultsReport.parse(new String[] {"--json", json.toString(), "--out",
            tmp.resolve("R.md").toString(), "--mode", "full"}));

        assertThat(Files.readString(tmp.resolve("R.md"))).doesNotContain("SMOKE");
    }

    @Test
    void parseShouldRejectUnknownOptionsAndModes() {
        assertThatThrownBy(() -> ResultsReport.parse(new String[] {"--json", "x", "--mode", "fast"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quick or full");
        assertThatThrownBy(() -> ResultsReport.parse(new String[] {"--jsn", "x"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option");
        assertThatThrownBy(() -> ResultsReport.parse(new String[] {"--out", "x"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--json");
    }

    @Test
    void writeShouldFailClearlyOnATruncatedResultFile() throws IOException {
        Path json = tmp.resolve("cut.json");
        String f = fixture();
        Files.writeString(json, f.substring(0, f.length() / 2));

        assertThatThrownBy(() -> ResultsReport.write(ResultsReport.parse(new String[] {"--json", json.toString(),
            "--out", tmp.resolve("R.md").toString()})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON");
        assertThat(tmp.resolve("R.md")).doesNotExist();
    }

    private static int countPixels(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == (rgb & 0xFFFFFF)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static int longestRun(BufferedImage image, int rgb) {
        int best = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            int run = 0;
            for (int x = 0; x < image.getWidth(); x++) {
                run = (image.getRGB(x, y) & 0xFFFFFF) == (rgb & 0xFFFFFF) ? run + 1 : 0;
                best = Math.max(best, run);
            }
        }
        return best;
    }
}
