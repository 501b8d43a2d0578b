package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL directory lock: a second open of a directory that a live WAL holds fails with
 * {@code IN_USE} naming the holder, whether it is in this JVM or another process; a killed holder
 * never blocks; a failed open in the same JVM does not unlock the running WAL for other processes.
 */
class DirectoryLockTest {
    @TempDir
    Path tmp;

    private static final long SELF = ProcessHandle.current().pid();

    private Path dir() {
        return tmp.resolve("wal");
    }

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir()).segmentBytes(64 << 10).spareSegments(0);
    }

    private static ShaleException openFails(FileWriteAheadLog.Builder b) {
        FileWriteAheadLog wal = b.build();
        try {
            wal.open(TestContext.INSTANCE);
        } catch (ShaleException e) {
            return e;
        } finally {
            wal.close();
        }
        throw new AssertionError("open succeeded");
    }

    // ---- child processes ----

    private Process startChild(String mode, Path out) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), WalLockChild.class.getName(), dir().toString(), mode));
        pb.redirectOutput(out.toFile());
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        return pb.start();
    }

    /** Starts a child that holds the lock; returns once it reported {@code @READY}. */
    private Process holdingChild() throws Exception {
        Path out = tmp.resolve("holder-" + System.nanoTime() + ".out");
        Process child = startChild("hold", out);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(out, StandardCharsets.US_ASCII).contains("@READY")) {
            if (!child.isAlive() || System.nanoTime() > deadline) {
                child.destroyForcibly();
                throw new AssertionError("the holding child did not get ready: "
                        + Files.readString(out, StandardCharsets.US_ASCII));
            }
            Thread.sleep(5);
        }
        assertThat(Files.readString(out, StandardCharsets.US_ASCII)).contains("@READY " + child.pid());
        return child;
    }

    /** Runs a child that tries to open the directory; returns its {@code @...} line. */
    private String tryingChild() throws Exception {
        Path out = tmp.resolve("try-" + System.nanoTime() + ".out");
        Process child = startChild("try", out);
        try {
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the trying child finished").isTrue();
        } finally {
            child.destroyForcibly();
        }
        return Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("@")).findFirst()
                .orElseThrow(() -> new AssertionError("the trying child printed no result"));
    }

    private static void kill(Process child) throws InterruptedException {
        child.destroyForcibly();   // SIGKILL: the child cannot release anything itself
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child died").isTrue();
    }

    // ---- tests ----

    @Test
    void aSecondOpenInTheSameJvmShouldFailWithInUseNamingThisProcess() {
        FileWriteAheadLog first = Replayed.open(builder()).wal();
        try {
            ShaleException e = openFails(builder());
            assertThat(e.kind()).isEqualTo(ErrorKind.IN_USE);
            assertThat(e.getMessage()).contains(dir().toString()).contains("pid " + SELF + " ")
                    .contains("this process");
            // The failed WAL may be opened again once the holder has closed.
        } finally {
            first.close();
        }
        Replayed.open(builder()).wal().close();
    }

    @Test
    void aFailedOpenInTheSameJvmShouldNotUnlockTheDirectoryForOtherProcesses() throws Exception {
        FileWriteAheadLog first = Replayed.open(builder()).wal();
        try {
            assertThat(openFails(builder()).kind()).isEqualTo(ErrorKind.IN_USE);
            // Closing the failed opener's channel would drop this process's POSIX lock on Linux.
            String result = tryingChild();
            assertThat(result).startsWith("@FAILED IN_USE").contains("pid " + SELF + " ");
        } finally {
            first.close();
        }
        assertThat(tryingChild()).isEqualTo("@OPENED");
    }

    @Test
    void concurrentOpensInOneJvmShouldLetExactlyOneWinAndKeepItsLock() throws Exception {
        int threads = 8;
        List<FileWriteAheadLog> wals = new java.util.ArrayList<>();
        for (int i = 0; i < threads; i++) {
            wals.add(builder().build());
        }
        List<Object> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<Thread> openers = new java.util.ArrayList<>();
        for (FileWriteAheadLog wal : wals) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    wal.open(TestContext.INSTANCE);
                    outcomes.add(wal);
                } catch (ShaleException e) {
                    outcomes.add(e.kind());
                } catch (Throwable e) {
                    outcomes.add(e);
                }
            });
            t.start();
            openers.add(t);
        }
        start.countDown();
        for (Thread t : openers) {
            t.join();
        }
        try {
            assertThat(outcomes).hasSize(threads);
            assertThat(outcomes.stream().filter(o -> o instanceof FileWriteAheadLog)).hasSize(1);
            assertThat(outcomes.stream().filter(o -> o == ErrorKind.IN_USE)).hasSize(threads - 1);
            // The losers' attempts did not drop the winner's lock.
            assertThat(tryingChild()).startsWith("@FAILED IN_USE").contains("pid " + SELF + " ");
        } finally {
            wals.forEach(FileWriteAheadLog::close);
        }
        assertThat(tryingChild()).isEqualTo("@OPENED");
    }

    @Test
    void aHolderInAnotherProcessShouldBeNamedAndAKilledHolderShouldNotBlock() throws Exception {
        Process child = holdingChild();
        try {
            ShaleException e = openFails(builder());
            assertThat(e.kind()).isEqualTo(ErrorKind.IN_USE);
            assertThat(e.getMessage()).contains(dir().toString()).contains("pid " + child.pid() + " on host ");
            assertThat(e.getMessage()).doesNotContain("unknown");
        } finally {
            kill(child);
        }
        // The dead child's lock file (with its identity) is still there; the lock is not.
        assertThat(Files.readString(dir().resolve(FileWriteAheadLog.LOCK_FILE))).contains("pid=" + child.pid());
        FileWriteAheadLog wal = Replayed.open(builder()).wal();
        try {
            assertThat(Files.readString(dir().resolve(FileWriteAheadLog.LOCK_FILE))).contains("pid=" + SELF + "\n");
        } finally {
            wal.close();
        }
    }

    @Test
    void aLockFileWithoutAReadableIdentityShouldStillMeanInUseWithAnUnknownHolder() throws Exception {
        Process child = holdingChild();
        try {
            Path lockFile = dir().resolve(FileWriteAheadLog.LOCK_FILE);
            String identity = Files.readString(lockFile);
            for (String content : List.of("", "\u0000\u0001garbage\n", identity.substring(0, identity.length() / 2),
                    identity.replace("pid=" + child.pid(), "pid=x"))) {
                Files.writeString(lockFile, content);   // another process: this does not touch its lock
                ShaleException e = openFails(builder());
                assertThat(e.kind()).as("content %s", content).isEqualTo(ErrorKind.IN_USE);
                assertThat(e.getMessage()).as("content %s", content).contains("unknown holder")
                        .contains(dir().toString());
            }
        } finally {
            kill(child);
        }
        Replayed.open(builder()).wal().close();
    }
}
