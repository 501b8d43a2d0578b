package io.shale.storage.local.wal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** One entry delivered by replay, copied out of the WAL's buffer. */
record Replayed(long sequence, int streamId, long baseOffset, byte[] payload) {

    static Replayed copy(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
        byte[] b = new byte[payload.remaining()];
        payload.duplicate().get(b);
        return new Replayed(sequence, streamId, baseOffset, b);
    }

    /** Opens, replays into a list, and returns the running WAL together with what it replayed. */
    static Opened open(FileWriteAheadLog.Builder builder) {
        FileWriteAheadLog wal = builder.build();
        List<Replayed> out = new ArrayList<>();
        try {
            wal.open(TestContext.INSTANCE);
            wal.replay((seq, stream, offset, payload) -> out.add(copy(seq, stream, offset, payload)));
        } catch (RuntimeException e) {
            wal.close();
            throw e;
        }
        return new Opened(wal, out);
    }

    /** Opens, replays and closes: what a restart would see. */
    static List<Replayed> replayOnly(FileWriteAheadLog.Builder builder) {
        Opened o = open(builder);
        o.wal().close();
        return o.entries();
    }

    record Opened(FileWriteAheadLog wal, List<Replayed> entries) {
    }
}
