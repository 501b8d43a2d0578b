package io.shale.storage.local.wal;

import io.shale.log.ShaleException;
import java.nio.file.Path;

/**
 * The child process of {@link DirectoryLockTest}. Arguments: directory, mode.
 * <ul>
 *   <li>{@code hold}: opens and replays the WAL, prints {@code @READY <pid>}, then waits until it
 *       is killed.</li>
 *   <li>{@code try}: opens the WAL and prints {@code @OPENED}, or {@code @FAILED <kind> <message>}
 *       if the open failed, then exits.</li>
 * </ul>
 */
public final class WalLockChild {
    private WalLockChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        FileWriteAheadLog wal = FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).spareSegments(0).build();
        if (args[1].equals("hold")) {
            wal.open(TestContext.INSTANCE);
            wal.replay((seq, stream, offset, payload) -> {
            });
            System.out.println("@READY " + ProcessHandle.current().pid());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        } else {
            try {
                wal.open(TestContext.INSTANCE);
                System.out.println("@OPENED");
            } catch (ShaleException e) {
                System.out.println("@FAILED " + e.kind() + " " + e.getMessage());
            } finally {
                wal.close();
            }
            System.out.flush();
        }
    }
}
