package io.shale.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.storage.local.LocalStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command against a local store built here, run in-process. */
class LocalStoreCliTest {
    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void store() {
        dir = tmp.resolve("store");
        try (LogStore store = LocalStorage.builder(dir).open()) {
            Cli.fill(store, 12);
        }
    }

    /** The file of a data object in the local store (key data/X is objects/data%2F/X). */
    private Path dataObjectFile() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("objects").resolve("data%2F"))) {
            List<Path> all = files.filter(Files::isRegularFile).sorted().toList();
            assertThat(all).isNotEmpty();
            return all.get(0);
        }
    }

    @Test
    void inspectShowsTopicsPartitionsOffsetsObjectsAndTheChain() {
        Cli.Result r = Cli.run("inspect", "--dir", dir.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out())
                .contains("opened read-only")
                .contains("topic orders")
                .contains("topic events")
                .contains("data/")
                .contains("manifest chain")
                .contains("writer claimed epoch 1")
                .contains("created topic orders (2 partitions)");
        // partition rows: index, log start 0, high watermark 12
        assertThat(r.out()).containsPattern("(?m)^  0\\s+0\\s+12\\s");
        assertThat(r.out()).containsPattern("(?m)^  1\\s+0\\s+12\\s");
        assertThat(r.out()).containsPattern("(?m)^  0\\s+0\\s+3\\s");
    }

    @Test
    void inspectOfOneTopicAndUnknownTopic() {
        Cli.Result one = Cli.run("inspect", "--dir", dir.toString(), "--topic", "events");
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat(one.out()).contains("topic events").doesNotContain("topic orders");

        Cli.Result unknown = Cli.run("inspect", "--dir", dir.toString(), "--topic", "nope");
        assertThat(unknown.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(unknown.err()).contains("unknown topic 'nope'").contains("events, orders")
                .doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void aMistypedPathIsAClearErrorAndCreatesNothing() {
        Path missing = tmp.resolve("no-such-store");
        Cli.Result r = Cli.run("inspect", "--dir", missing.toString());
        assertThat(r.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(r.err()).contains("no such directory").contains("no-such-store").doesNotContain("\tat ");
        assertThat(missing).doesNotExist();

        Cli.Result notAStore = Cli.run("verify", "--dir", tmp.toString());
        assertThat(notAStore.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(notAStore.err()).contains("no Shale store in");
        assertThat(tmp.resolve("objects")).doesNotExist();

        Cli.Result objectsDir = Cli.run("inspect", "--dir", dir.resolve("objects").toString());
        assertThat(objectsDir.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(objectsDir.err()).contains("objects directory of a store");

        Cli.Result noStore = Cli.run("inspect");
        assertThat(noStore.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(noStore.err()).contains("--dir").contains("--bucket");
    }

    @Test
    void inspectionWritesNothing() throws IOException {
        String before = listing(dir);
        for (String cmd : List.of("inspect", "dump", "verify", "cost")) {
            Cli.Result r = Cli.run(cmd, "--dir", dir.toString());
            assertThat(r.exitCode()).as(cmd + ": " + r).isZero();
        }
        assertThat(listing(dir)).isEqualTo(before);
    }

    private static String listing(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return String.join("\n", s.map(p -> root.relativize(p) + (Files.isRegularFile(p) ? " " + size(p) : ""))
                    .sorted().toList());
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void inspectionDoesNotDisturbALiveWriter() {
        try (LogStore writer = LocalStorage.builder(dir).open()) {
            Cli.Result r = Cli.run("verify", "--dir", dir.toString());
            assertThat(r.exitCode()).as(r.toString()).isZero();
            // the writer was not fenced: it still appends and uploads
            writer.append(TopicPartition.of("events", 0), List.of(io.shale.log.record.SimpleRecord.of("d", "e3"))).join();
            writer.flush();
        }
        Cli.Result after = Cli.run("inspect", "--dir", dir.toString(), "--topic", "events");
        assertThat(after.out()).containsPattern("(?m)^  0\\s+0\\s+4\\s");
    }

    @Test
    void dumpPrintsBatchHeadersAndRecordsOfARange() {
        Cli.Result r = Cli.run("dump", "--dir", dir.toString(), "--topic", "orders", "--partition", "1",
                "--from-offset", "5", "--to-offset", "10", "--print-data");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out())
                .contains("Dumping orders-1 offsets [5, 10)")
                .contains("baseOffset: 5 lastOffset: 9 count: 5")
                .contains("compresscodec: none")
                .contains("isvalid: true")
                .contains("| offset: 7 ")
                .contains("key: customer-7 payload: order-1-7")
                .doesNotContain("baseOffset: 0 ")
                .doesNotContain("baseOffset: 10 ")
                .doesNotContain("order-0-");
    }

    @Test
    void dumpOfOneObjectAndOfAnUnknownOne() throws IOException {
        String key = "data/" + dataObjectFile().getFileName();
        Cli.Result r = Cli.run("dump", "--dir", dir.toString(), "--object", key);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Dumping " + key).contains("Block at position 0: ").contains("block CRC valid")
                .contains("baseOffset: 0 ");

        Cli.Result unknown = Cli.run("dump", "--dir", dir.toString(), "--object", "data/nope");
        assertThat(unknown.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(unknown.err()).contains("no object 'data/nope'");

        Cli.Result badPartition = Cli.run("dump", "--dir", dir.toString(), "--topic", "orders", "--partition", "7");
        assertThat(badPartition.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(badPartition.err()).contains("has partitions 0..1, not 7");
    }

    @Test
    void verifyPassesOnAHealthyStore() {
        Cli.Result r = Cli.run("verify", "--dir", dir.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("OK: no problems found").contains("partitions: 3 checked");
        assertThat(r.out()).containsPattern("objects: [1-9]\\d* referenced data objects checked");
    }

    @Test
    void verifyDetectsAFlippedByteInADataObject() throws IOException {
        Path file = dataObjectFile();
        byte[] bytes = Files.readAllBytes(file);
        bytes[40] ^= 0x10; // inside the first block's first batch
        Files.write(file, bytes);

        Cli.Result r = Cli.run("verify", "--dir", dir.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_PROBLEMS);
        assertThat(r.out()).contains("PROBLEM: object data/" + file.getFileName()).contains("CRC-32C mismatch")
                .contains("FAILED: 1 problem found");

        Cli.Result dump = Cli.run("dump", "--dir", dir.toString(), "--object", "data/" + file.getFileName());
        assertThat(dump.exitCode()).as(dump.toString()).isEqualTo(ShaleCli.EXIT_PROBLEMS);
        assertThat(dump.out()).contains("block CRC INVALID").contains("isvalid: false");
    }

    @Test
    void verifyDetectsAMissingDataObject() throws IOException {
        Path file = dataObjectFile();
        Files.delete(file);

        Cli.Result r = Cli.run("verify", "--dir", dir.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_PROBLEMS);
        assertThat(r.out()).contains("PROBLEM: object data/" + file.getFileName() + " is missing")
                .contains("orders-0 [0, 12)");
    }

    @Test
    void verifyDetectsACorruptManifestDelta() throws IOException {
        Path delta;
        try (Stream<Path> s = Files.list(dir.resolve("objects").resolve("manifest%2F").resolve("deltas%2F"))) {
            delta = s.sorted().toList().get(1);
        }
        byte[] bytes = Files.readAllBytes(delta);
        bytes[bytes.length - 1] ^= 1;
        Files.write(delta, bytes);
        Cli.Result r = Cli.run("verify", "--dir", dir.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_PROBLEMS);
        assertThat(r.out()).contains("PROBLEM: manifest").contains("CRC mismatch");
    }

    @Test
    void progressGoesToStderrOnlyWhenAskedForOrOnATerminal() {
        Cli.Result with = Cli.run("verify", "--dir", dir.toString(), "--progress");
        assertThat(with.err()).contains("verify [").contains("100%");
        assertThat(with.out()).doesNotContain("verify [");
        if (System.console() == null) {
            Cli.Result without = Cli.run("verify", "--dir", dir.toString());
            assertThat(without.err()).isEmpty();
        }
    }

    @Test
    void costGivesRequestsPerGibAndAMonthlyEstimatePerProvider() {
        Cli.Result r = Cli.run("cost", "--upload-bytes", "8388608", "--no-compaction");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        // 1 GiB / 8 MiB = 128 uploads, one PUT each
        assertThat(r.out()).containsPattern("uploads \\(data objects\\)\\s+128\\s");
        assertThat(r.out()).contains("S3 Standard").contains("S3 Express One Zone").contains("Cloudflare R2")
                .contains("as of 2026-12-07");

        Cli.Result measured = Cli.run("cost", "--dir", dir.toString());
        assertThat(measured.exitCode()).as(measured.toString()).isZero();
        assertThat(measured.out()).contains("Measured in").contains("upload objects average");
    }

    @Test
    void costReadsAPriceFileAndNamesWhatIsWrongInIt() throws IOException {
        Path prices = tmp.resolve("prices.properties");
        Files.writeString(prices, """
                as-of=2030-01-01
                providers=cheap
                cheap.name=Cheap Store
                cheap.storage-per-gb-month=0
                cheap.write-per-1000=1
                cheap.read-per-1000=0
                cheap.delete-per-1000=0
                cheap.upload-per-gb=0
                cheap.retrieval-per-gb=0
                """);
        Cli.Result r = Cli.run("cost", "--prices", prices.toString(), "--upload-bytes", "1073741824", "--no-compaction",
                "--ingest-gib-per-month", "1000", "--upload-interval-ms", "100000000");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Cheap Store").contains("as of 2030-01-01").doesNotContain("S3 Standard");

        Files.writeString(prices, "providers=x\nx.storage-per-gb-month=abc\n");
        Cli.Result bad = Cli.run("cost", "--prices", prices.toString());
        assertThat(bad.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(bad.err()).contains("x.storage-per-gb-month").contains("abc");
    }

    @Test
    void produceThenConsume() throws IOException {
        Path lines = tmp.resolve("lines.txt");
        Files.writeString(lines, "k1:hello\nk2:world\nno-key-line\n");
        Cli.Result p = Cli.run("produce", "--dir", dir.toString(), "--topic", "trial", "--create-partitions", "1",
                "--key-separator", ":", "--input", lines.toString());
        assertThat(p.exitCode()).as(p.toString()).isZero();
        assertThat(p.out()).contains("created topic trial").contains("appended 3 records to trial");

        Cli.Result c = Cli.run("consume", "--dir", dir.toString(), "--topic", "trial", "--print-key");
        assertThat(c.exitCode()).as(c.toString()).isZero();
        assertThat(c.out().lines().toList()).containsExactly("k1\thello", "k2\tworld", "null\tno-key-line");

        Cli.Result g = Cli.run("produce", "--dir", dir.toString(), "--topic", "orders", "--generate", "50",
                "--value-size", "20");
        assertThat(g.exitCode()).as(g.toString()).isZero();
        Cli.Result some = Cli.run("consume", "--dir", dir.toString(), "--topic", "orders", "--partition", "0",
                "--offset", "3", "--max-records", "4", "--print-offset");
        assertThat(some.exitCode()).as(some.toString()).isZero();
        List<String> out = some.out().lines().toList();
        assertThat(out).hasSize(4);
        assertThat(out.get(0)).startsWith("0\t3\t").endsWith("order-0-3");
        assertThat(out.get(3)).startsWith("0\t6\t");

        Cli.Result unknown = Cli.run("produce", "--dir", dir.toString(), "--topic", "nope", "--generate", "1");
        assertThat(unknown.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(unknown.err()).contains("unknown topic 'nope'").contains("--create-partitions");
    }

    @Test
    void consumeFollowStopsAfterThePollTimeoutOrMaxRecords() {
        Cli.Result r = Cli.run("consume", "--dir", dir.toString(), "--topic", "events", "--follow", "--poll-timeout", "300ms");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out().lines().toList()).containsExactly("e0", "e1", "e2");

        Cli.Result bad = Cli.run("consume", "--dir", dir.toString(), "--topic", "events", "--follow", "--poll-timeout", "soon");
        assertThat(bad.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(bad.err()).contains("--poll-timeout").contains("soon");

        Cli.Result outOfRange = Cli.run("consume", "--dir", dir.toString(), "--topic", "events", "--offset", "99");
        assertThat(outOfRange.exitCode()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(outOfRange.err()).contains("offset 99 is outside");
    }

    @Test
    void aSecondWriterIsRefusedWithoutDisturbingTheFirst() {
        try (LogStore writer = LocalStorage.builder(dir).open()) {
            Cli.Result r = Cli.run("produce", "--dir", dir.toString(), "--topic", "events", "--generate", "1");
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_STORE);
            assertThat(r.err()).contains("IN_USE").doesNotContain("\tat ");
            writer.append(TopicPartition.of("events", 0), List.of(io.shale.log.record.SimpleRecord.of("d", "e3"))).join();
        }
    }
}
