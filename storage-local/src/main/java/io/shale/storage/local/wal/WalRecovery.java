package io.shale.storage.local.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.WalReplayHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery: reads every segment header, delivers the good frames of live segments in sequence
 * order, and works out where the writer continues (next sequence, next ordinal, the link to the
 * newest segment, the spare and sealed files).
 *
 * <p>Rules, per live segment in ordinal order (see {@link WalFormat} for frame validity):
 * <ul>
 *   <li>If a newer header names this segment as its predecessor, its {@code prevEnd} is the
 *       declared end: frames before it are delivered, frames at or after it (entries of a group
 *       that failed, or garbage after a torn tail found by an earlier recovery) are not. An invalid
 *       frame before the declared end means bytes the writer had made durable were damaged
 *       afterwards: logged as an error and counted in {@link Result#corruptSegments}; the segment's
 *       frames after it are lost, replay continues with the next segment.</li>
 *   <li>Otherwise (the newest segment, or one whose successor's header was lost) every valid
 *       frame up to the first invalid one is delivered: a torn tail ends there. Nothing is
 *       rewritten: the writer continues in a new segment whose header declares this end, so new
 *       frames never follow garbage.</li>
 * </ul>
 * Sequences are strictly increasing in write order; a frame whose sequence is not above the
 * last delivered one is skipped with a warning (it cannot happen unless the files were edited).
 *
 * <p>Passes: {@link #scan} and {@link #deliver} only read, so {@code deliver} can run again on the
 * same {@link Scan} (a repeated replay) while the segment pool's thread is creating spares in the
 * same directory. Only {@link #keepSpares}, called once after the first successful pass, deletes
 * files (free files beyond what the pool keeps as spares).
 */
final class WalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(WalRecovery.class);
    private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}\\.wal");

    /**
     * What a directory listing found: the live segments in ordinal order (with the sizes and
     * headers read then, reused by every later pass), the free files, and the highest file number.
     */
    record Scan(List<Live> live, List<Path> free, long maxFileNumber) {
    }

    record Live(Path path, long fileNumber, long fileSize, WalFormat.Header header) {
    }

    /**
     * What one delivery pass found. {@code segmentEnds} holds, per live segment of the scan, where
     * reading stopped; with {@code entries} it tells whether a later pass read the same bytes.
     */
    record Result(long entries, long nextSequence, long nextOrdinal, long nextFileNumber,
            long prevSegmentId, long prevEnd, long newestOrdinal,
            List<SegmentPool.Sealed> sealed, int corruptSegments, String firstDamage, String tail,
            long[] segmentEnds, long[] segmentEntries) {
    }

    private WalRecovery() {
    }

    /** Lists the directory and reads every segment header. Reads only. */
    static Scan scan(Path dir, ChannelFactory channels, String description) {
        List<Live> live = new ArrayList<>();
        List<Path> free = new ArrayList<>();
        long maxFileNumber = 0;
        CRC32C crc = new CRC32C();
        ByteBuffer headerBuf = ByteBuffer.allocate(WalFormat.HEADER_LENGTH);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (!SEGMENT_NAME.matcher(name).matches()) {
                    continue;
                }
                long number = Long.parseLong(name.substring(0, 20));
                maxFileNumber = Math.max(maxFileNumber, number);
                try (FileChannel ch = channels.open(p, StandardOpenOption.READ)) {
                    long size = ch.size();
                    headerBuf.clear();
                    while (headerBuf.hasRemaining() && ch.read(headerBuf, headerBuf.position()) >= 0) {
                        // keep reading until full or end of file
                    }
                    headerBuf.flip();
                    WalFormat.Header h = WalFormat.readHeader(headerBuf, 0, crc);
                    if (h != null) {
                        live.add(new Live(p, number, size, h));
                    } else {
                        free.add(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot read WAL directory " + dir
                    + ": " + e, e);
        }
        live.sort(Comparator.comparingLong((Live l) -> l.header().ordinal()).thenComparingLong(Live::fileNumber));
        return new Scan(List.copyOf(live), List.copyOf(free), maxFileNumber);
    }

    /**
     * Delivers the good frames of the scanned live segments in sequence order. Reads only.
     *
     * @param expected the result of an earlier pass over the same scan, or {@code null} on the
     *     first pass; a repeated pass fails with {@code CORRUPT_STORAGE} naming the segment as soon
     *     as one segment does not read as it did then (the files changed behind the WAL's back), and
     *     logs damage at DEBUG instead of repeating the first pass's errors
     */
    static Result deliver(Scan scan, ChannelFactory channels, WalReplayHandler handler, String description,
            Result expected) {
        boolean repeat = expected != null;
        List<Live> live = scan.live();
        Map<Long, Long> declaredEnds = new HashMap<>();
        for (Live l : live) {
            if (l.header().prevSegmentId() != 0) {
                declaredEnds.merge(l.header().prevSegmentId(), l.header().prevEnd(), Math::max);
            }
        }

        FrameReader reader = new FrameReader();
        List<SegmentPool.Sealed> sealed = new ArrayList<>();
        long[] segmentEnds = new long[live.size()];
        long[] segmentEntries = new long[live.size()];
        long lastDelivered = Long.MIN_VALUE;
        long maxSequence = -1;
        long entries = 0;
        int corrupt = 0;
        String firstDamage = null;
        String tail = null;
        long tailId = 0;
        long tailEnd = 0;
        for (int i = 0; i < live.size(); i++) {
            Live l = live.get(i);
            WalFormat.Header h = l.header();
            long declared = declaredEnds.getOrDefault(h.segmentId(), -1L);
            long pos = WalFormat.FIRST_FRAME_OFFSET;
            long goodEnd = pos;
            long prevSeq = Long.MIN_VALUE;
            long segMaxSeq = h.firstSequence() - 1;
            long segEntries = 0;
            try (FileChannel ch = channels.open(l.path(), StandardOpenOption.READ)) {
                reader.reset(ch, l.fileSize(), h.segmentId());
                while (true) {
                    int len = reader.read(pos);
                    boolean valid = len > 0 && (prevSeq == Long.MIN_VALUE
                            ? reader.sequence == h.firstSequence() : reader.sequence > prevSeq);
                    if (!valid) {
                        if (declared >= 0 && pos < declared) {
                            corrupt++;
                            if (firstDamage == null) {
                                firstDamage = "segment " + l.path() + " has an invalid frame at position " + pos
                                        + " but its successor declares good frames up to " + declared;
                            }
                            if (!repeat) {
                                LOG.error("{}: segment {} has an invalid frame at position {} but its successor "
                                        + "declares good frames up to {}: acknowledged entries after it are lost",
                                        description, l.path(), pos, declared);
                            }
                        }
                        break;
                    }
                    prevSeq = reader.sequence;
                    segMaxSeq = Math.max(segMaxSeq, reader.sequence);
                    if (declared < 0 || pos + len <= declared) {
                        if (reader.sequence > lastDelivered) {
                            handler.onEntry(reader.sequence, reader.streamId, reader.baseOffset, reader.payload);
                            lastDelivered = reader.sequence;
                            entries++;
                            segEntries++;
                        } else if (!repeat) {
                            LOG.warn("{}: skipping frame with sequence {} at {} position {}: not above the last "
                                    + "delivered sequence {}", description, reader.sequence, l.path(), pos,
                                    lastDelivered);
                        }
                        goodEnd = pos + len;
                    }
                    // Frames past the declared end are not delivered, but their sequences count
                    // for numbering so that a sequence on disk is never handed out again.
                    pos += len;
                }
            } catch (IOException e) {
                throw new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot read WAL segment "
                        + l.path() + " at position " + pos + ": " + e, e);
            }
            if (repeat && (expected.segmentEnds()[i] != pos || expected.segmentEntries()[i] != segEntries)) {
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, description + ": WAL segment " + l.path()
                        + " changed between two replays (read " + segEntries + " entries up to position " + pos
                        + ", the first replay read " + expected.segmentEntries()[i] + " up to position "
                        + expected.segmentEnds()[i] + "): the files were modified behind the WAL's back");
            }
            segmentEnds[i] = pos;
            segmentEntries[i] = segEntries;
            maxSequence = Math.max(maxSequence, segMaxSeq);
            sealed.add(new SegmentPool.Sealed(l.path(), h.ordinal(), segMaxSeq, l.fileSize()));
            tailId = h.segmentId();
            tailEnd = goodEnd;
            tail = l.path().getFileName() + " ends at position " + pos;
        }
        long newestOrdinal = live.isEmpty() ? 0 : live.get(live.size() - 1).header().ordinal();
        return new Result(entries, maxSequence + 1, newestOrdinal + 1, scan.maxFileNumber() + 1, tailId, tailEnd,
                newestOrdinal, List.copyOf(sealed), corrupt, firstDamage, tail, segmentEnds, segmentEntries);
    }

    /**
     * Sorts the scan's free files into spares to keep (standard size, up to
     * {@link SegmentPool#maxSpares}) and files to delete, deletes the latter and syncs the directory
     * if it deleted any. Call once, after the first successful {@link #deliver} and before the
     * segment pool starts; never on a repeated replay.
     */
    static List<Path> keepSpares(Scan scan, Path dir, long segmentBytes, int targetSpares, ChannelFactory channels,
            String description) {
        List<Path> spares = new ArrayList<>();
        boolean deleted = false;
        for (Path p : scan.free()) {
            long size;
            try {
                size = Files.size(p);
            } catch (IOException e) {
                continue;
            }
            if (size == segmentBytes && spares.size() < SegmentPool.maxSpares(targetSpares)) {
                spares.add(p);
            } else {
                try {
                    deleted |= Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.warn("{}: cannot delete unused segment file {}: {}", description, p, e.toString());
                }
            }
        }
        if (deleted) {
            // A free file that reappears after a crash is harmless (it is free again and the next
            // recovery sorts it out); the sync keeps the rule that the WAL syncs every change of
            // its directory's entries before going on (see SegmentPool).
            SegmentPool.syncDirectoryAfterDelete(channels, dir, description);
        }
        return spares;
    }
}
