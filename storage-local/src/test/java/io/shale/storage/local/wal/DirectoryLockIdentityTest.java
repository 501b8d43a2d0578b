package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** How an opener that finds the directory locked names the holder from the lock file's text. */
class DirectoryLockIdentityTest {
    private static final long SELF = ProcessHandle.current().pid();
    private final Path dir = Path.of("/var/lib/app/wal");

    @Test
    void theHolderDescriptionShouldNameOnlyLiveHoldersOfACompleteIdentity() {
        String self = DirectoryLock.identity(dir);
        assertThat(DirectoryLock.describe(self)).startsWith("pid " + SELF + " on host ").contains("locked at");
        assertThat(DirectoryLock.describe("")).contains("unknown holder").contains("empty");
        assertThat(DirectoryLock.describe(self.substring(0, self.indexOf("wal=")))).contains("unknown holder");
        assertThat(DirectoryLock.describe(self.replace("shale-wal-lock 1", "something else")))
                .contains("unknown holder");
        // A pid of this host that is not running (or was reused by a process started later) is stale.
        long dead = deadPid();
        assertThat(DirectoryLock.describe(self.replace("pid=" + SELF, "pid=" + dead)))
                .contains("unknown holder").contains("pid " + dead).contains("not running");
        String reused = self.replaceFirst("jvm-started=[^\n]*", "jvm-started=2001-01-01T00:00:00Z");
        assertThat(DirectoryLock.describe(reused)).contains("unknown holder");
        // Another host's holder is named as recorded.
        String remote = self.replaceFirst("host=[^\n]*", "host=elsewhere.example");
        assertThat(DirectoryLock.describe(remote)).startsWith("pid " + SELF + " on host elsewhere.example");
    }

    private static long deadPid() {
        long pid = 3_999_999;   // some pid with no process behind it now
        while (ProcessHandle.of(pid).isPresent()) {
            pid++;
        }
        return pid;
    }
}
