package io.shale.storage.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read-only open writes nothing at all. Tests run as root here, so a chmod would not stop a
 * write; instead the whole tree (every file and directory, with size and modification time, which
 * a file created and deleted again in a directory changes) is compared before and after.
 */
class ReadOnlyLocalStoreTest {
    private static final TopicPartition TP = TopicPartition.of("orders", 0);

    @TempDir
    Path tmp;

    @Test
    void aReadOnlyOpenReadsEverythingAndChangesNothingInTheTree() throws Exception {
        Path dir = tmp.resolve("store");
        List<String> written = new ArrayList<>();
        try (LogStore writer = LocalStorage.open(dir)) {
            writer.createTopic(TP.topic(), 1);
            for (int i = 0; i < 20; i++) {
                writer.append(TP, List.of(SimpleRecord.of("k", "v" + i))).join();
                written.add("v" + i);
                if (i == 9) {
                    writer.flush(); // half uploaded to objects, half only in the WAL until close
                }
            }
        }
        Thread.sleep(20); // a change made now would show in modification times
        Map<String, String> before = snapshot(tmp);

        try (LogStore reader = LocalStorage.readOnly(dir).open()) {
            assertThat(reader.isReadOnly()).isTrue();
            assertThat(BoundedOpenCloseTest.values(reader, TP)).containsExactlyElementsOf(written);
            assertThatThrownBy(() -> reader.createTopic("other", 1))
                    .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.READ_ONLY));
        }

        assertThat(snapshot(tmp)).as("files and directories after a read-only open and close")
                .containsExactlyEntriesOf(before);
    }

    @Test
    void aMistypedPathFailsNamingItAndCreatesNothing() throws Exception {
        Path dir = tmp.resolve("store");
        LocalStorage.open(dir).close();
        Path typo = tmp.resolve("stroe");
        Map<String, String> before = snapshot(tmp);

        assertThatThrownBy(() -> LocalStorage.readOnly(typo).open())
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE_ACCESS);
                    assertThat(e.isRetriable()).isFalse();
                    assertThat(e.getMessage()).contains(typo.toString()).contains("does not exist");
                });
        assertThat(Files.exists(typo)).isFalse();
        assertThat(snapshot(tmp)).containsExactlyEntriesOf(before);
    }

    @Test
    void aDirectoryThatIsNotAStoreFailsAndStaysUntouched() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path noMarker = Files.createDirectories(tmp.resolve("half").resolve(LocalStorage.OBJECTS_DIR));
        Map<String, String> before = snapshot(tmp);

        assertThatThrownBy(() -> LocalStorage.readOnly(empty).open())
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE_ACCESS);
                    assertThat(e.getMessage()).contains(empty.toString());
                });
        assertThatThrownBy(() -> LocalStorage.readOnly(noMarker.getParent()).open())
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE_ACCESS);
                    assertThat(e.getMessage()).contains(noMarker.toString()).contains("not a Shale local object store");
                });
        assertThat(snapshot(tmp)).containsExactlyEntriesOf(before);
    }

    @Test
    void badPathsForAWritableStoreFailWithShaleException() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertThatThrownBy(() -> LocalStorage.builder(file))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(file.toString());
                });
        assertThatThrownBy(() -> LocalStorage.open(file.resolve("below-a-file")))
                .isInstanceOf(ShaleException.class).hasMessageContaining("below-a-file");
        Path objectsIsAFile = Files.createDirectories(tmp.resolve("odd"));
        Files.writeString(objectsIsAFile.resolve(LocalStorage.OBJECTS_DIR), "x");
        assertThatThrownBy(() -> LocalStorage.open(objectsIsAFile))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(LocalStorage.OBJECTS_DIR).contains("not a directory");
                });
        assertThatThrownBy(() -> LocalStorage.readOnly(file))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.getMessage()).contains(file.toString()));
        assertThatThrownBy(() -> io.shale.storage.local.wal.FileWriteAheadLog.builder(tmp).segmentBytes(3).build())
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("segmentBytes");
                });
    }

    /** Every path below {@code root} (root included) with its kind, size and modification time. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                out.put(root.relativize(p).toString(), (a.isDirectory() ? "dir" : "file " + a.size()) + " mtime "
                        + a.lastModifiedTime().toInstant());
            }
        }
        return out;
    }
}
