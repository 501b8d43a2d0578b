package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/** Test helpers that look inside a WAL directory with the format's own reader. */
final class SegmentFiles {
    private SegmentFiles() {
    }

    record Frame(long position, int length, long sequence) {
    }

    record Segment(Path path, WalFormat.Header header, List<Frame> frames) {
    }

    /** Every segment file whose header is valid, in ordinal order, with its valid frames. */
    static List<Segment> live(Path dir) throws IOException {
        List<Segment> out = new ArrayList<>();
        for (Path p : files(dir)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                ByteBuffer hb = ByteBuffer.allocate(WalFormat.HEADER_LENGTH);
                ch.read(hb, 0);
                hb.flip();
                WalFormat.Header h = WalFormat.readHeader(hb, 0, new CRC32C());
                if (h == null) {
                    continue;
                }
                FrameReader r = new FrameReader();
                r.reset(ch, ch.size(), h.segmentId());
                List<Frame> frames = new ArrayList<>();
                long pos = WalFormat.FIRST_FRAME_OFFSET;
                for (int len; (len = r.read(pos)) > 0; pos += len) {
                    frames.add(new Frame(pos, len, r.sequence));
                }
                out.add(new Segment(p, h, frames));
            }
        }
        out.sort(Comparator.comparingLong(s -> s.header().ordinal()));
        return out;
    }

    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
        }
    }

    /** The newest live segment (where the last appends went). */
    static Segment newest(Path dir) throws IOException {
        List<Segment> l = live(dir);
        return l.get(l.size() - 1);
    }

    static void overwrite(Path file, long position, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b, position + b.position());
            }
        }
    }

    static void flipByte(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) ~b.get(0));
            b.clear();
            ch.write(b, position);
        }
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }
}
