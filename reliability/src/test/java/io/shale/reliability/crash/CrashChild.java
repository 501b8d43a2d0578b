package io.shale.reliability.crash;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.reliability.support.Ledger;
import io.shale.reliability.support.Producers;
import io.shale.reliability.support.Stores;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The process the crash harness kills: opens the store in a directory with settings that make
 * uploads, manifest commits, snapshots, compactions and deletions happen constantly, creates the
 * topic if needed, then runs producer threads until it is killed (or its time is up), printing one
 * line per acknowledged append to stdout, flushed before the next line:
 *
 * <pre>
 * READY                                     the store is open (recovery done)
 * A partition baseOffset lastOffset hash    an acknowledged append (hash: {@link CrashLog#hash})
 * F kind message                            an append failed (for the log; not an error)
 * DONE                                      time was up; the store was closed cleanly
 * </pre>
 *
 * <p>Arguments: {@code dir cycle seed producers partitions maxValue maxRunMs [wal]} ({@code wal}:
 * {@code file}, the default, or {@code object}). Record ids are
 * {@code Payloads.id(cycle * producers + thread, attempt)}, so they are unique across cycles.
 */
public final class CrashChild {
    private CrashChild() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int cycle = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        int producers = Integer.parseInt(args[3]);
        int partitions = Integer.parseInt(args[4]);
        int maxValue = Integer.parseInt(args[5]);
        long maxRunMs = Long.parseLong(args[6]);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.US_ASCII);

        String walKind = args.length > 7 ? args[7] : "file";
        LogStore store = CrashLog.openStore(dir, walKind, java.util.Map.of());
        Stores.createTopic(store, CrashLog.TOPIC, partitions, CrashLog.topicConfig());
        emit(out, "READY");
        List<TopicPartition> tps = Stores.partitions(CrashLog.TOPIC, partitions);
        Producers p = new Producers(store, tps, producers, cycle * producers, seed, maxValue, 5, 8, new Ledger(),
                (tp, ids, r) -> emit(out, ack(tp, r, ids, maxValue)));
        p.start();
        try {
            Thread.sleep(maxRunMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        p.stop();
        for (var e : p.failures.entrySet()) {
            emit(out, "F " + e.getKey() + " " + e.getValue().get());
        }
        try {
            store.close();
        } catch (ShaleException e) {
            emit(out, "F " + ErrorKind.UNAVAILABLE + " close: " + e.getMessage());
        }
        emit(out, "DONE");
        out.flush();
        System.exit(0);
    }

    private static String ack(TopicPartition tp, AppendResult r, long[] ids, int maxValue) {
        return "A " + tp.partition() + " " + r.baseOffset() + " " + r.lastOffset() + " "
                + Long.toHexString(CrashLog.hash(ids, maxValue));
    }

    /** One line, written and flushed under a lock so that lines never interleave. */
    private static void emit(PrintStream out, String line) {
        synchronized (out) {
            out.print(line);
            out.print('\n');
            out.flush();
        }
    }
}
