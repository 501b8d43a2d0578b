package io.shale.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectFormat;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.format.DataObjectWriter;
import io.shale.log.internal.manifest.ManifestCodec;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Header;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.record.RecordBatches;
import io.shale.log.record.SimpleRecord;
import io.shale.log.wal.ObjectWalFormat;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of the decoders that read bytes back from storage: record batches, data-object
 * footers and indexes (with block verification), manifest deltas (decoded and applied) and
 * snapshots, and object-WAL objects. Runs in its own JVM with a 64 MiB heap (see the module's
 * pom), so a lying length that makes a decoder allocate what it claims ends the run with
 * OutOfMemoryError. The WAL decoders are also fuzzed through the WALs' own replay
 * ({@link WalReplayFuzzTest}).
 */
@Tag("fuzz")
class DecoderFuzzTest {

    private static void report(Fuzz.Tally t) {
        System.out.println("fuzz " + t);
        assertThat(t.cases).isEqualTo(Fuzz.CASES);
        // the mutations must reach past the first checks: some inputs decode, some are rejected
        assertThat(t.count(Fuzz.Outcome.CORRUPT)).as(t.toString()).isPositive();
    }

    // ------------------------------------------------------------------ record batches

    static List<byte[]> validBatches(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<byte[]> out = new ArrayList<>();
        for (CompressionType type : CompressionType.values()) {
            for (int i = 0; i < 4; i++) {
                RecordBatchBuilder b = new RecordBatchBuilder().compression(type).baseOffset(r.nextInt(1000))
                        .defaultTimestamp(1_700_000_000_000L);
                int n = 1 + r.nextInt(8);
                for (int k = 0; k < n; k++) {
                    byte[] v = new byte[r.nextInt(200)];
                    r.nextBytes(v);
                    List<Header> hs = k % 3 == 0 ? List.of(new Header("h" + k, ByteBuffer.wrap(new byte[] {1, 2})))
                            : List.of();
                    b.append(new SimpleRecord(1_700_000_000_000L + k, k % 4 == 0 ? null : ByteBuffer.wrap(("k" + k)
                            .getBytes(StandardCharsets.UTF_8)), ByteBuffer.wrap(v), hs));
                }
                ByteBuffer bb = b.build();
                byte[] bytes = new byte[bb.remaining()];
                bb.get(bytes);
                out.add(bytes);
            }
        }
        return out;
    }

    /** Recomputes the first batch's CRC (and makes its length field match the input). */
    static byte[] fixBatchCrc(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(RecordBatchLayout.LENGTH_OFFSET, b.length - RecordBatchLayout.LOG_OVERHEAD);
        CRC32C crc = new CRC32C();
        crc.update(b, RecordBatchLayout.CRC_COVERED_START, b.length - RecordBatchLayout.CRC_COVERED_START);
        bb.putInt(RecordBatchLayout.CRC_OFFSET, (int) crc.getValue());
        return b;
    }

    static void useBatches(byte[] input) {
        ByteBuffer buf = ByteBuffer.wrap(input);
        RecordBatches.iterate(buf).forEachRemaining(b -> {
        });
        RecordBatch b = RecordBatch.wrap(buf);
        b.ensureValid();
        long sum = b.lastOffset() + b.maxTimestamp() + b.recordCount();
        for (Record r : b) {
            sum += r.offset() + r.timestamp() + touch(r.key()) + touch(r.value());
            for (Header h : r.headers()) {
                sum += h.key().length() + touch(h.value());
            }
        }
        RecordBatches.split(b.buffer());
        sink(sum);
    }

    @Test
    void recordBatchDecodingShouldSucceedOrReportCorruptRecord() {
        report(Fuzz.run("record batch", validBatches(Fuzz.SEED), DecoderFuzzTest::fixBatchCrc,
                ErrorKind.CORRUPT_RECORD, DecoderFuzzTest::useBatches, Fuzz.SEED + 1, Fuzz.CASES));
    }

    // ------------------------------------------------------------------ data objects

    static List<byte[]> validObjects(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<byte[]> batches = validBatches(seed);
        List<byte[]> out = new ArrayList<>();
        for (int o = 0; o < 6; o++) {
            DataObjectWriter w = new DataObjectWriter(1024);
            int partitions = 1 + r.nextInt(4);
            for (int p = 0; p < partitions; p++) {
                int count = 1 + r.nextInt(5);
                long next = 0;
                for (int i = 0; i < count; i++) {
                    byte[] batch = batches.get(r.nextInt(batches.size())).clone();
                    RecordBatch.setBaseOffset(ByteBuffer.wrap(batch), 0, next);
                    next = RecordBatch.wrap(ByteBuffer.wrap(batch)).nextOffset();
                    w.add(p, ByteBuffer.wrap(batch));
                }
            }
            List<ByteBuffer> parts = w.finish();
            ByteBuffer all = ByteBuffer.allocate((int) w.objectSize());
            for (ByteBuffer b : parts) {
                all.put(b.duplicate());
            }
            out.add(all.array());
        }
        return out;
    }

    /**
     * Recomputes, wherever the footer and index say they are, the block CRCs in the index entries,
     * the index CRC and the footer CRC of an object.
     */
    static byte[] fixObjectCrcs(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        int f = b.length - DataObjectFormat.FOOTER_SIZE;
        long indexPosition = bb.getLong(f + DataObjectFormat.FOOTER_INDEX_POSITION_OFFSET);
        int indexLength = bb.getInt(f + DataObjectFormat.FOOTER_INDEX_LENGTH_OFFSET);
        if (indexPosition >= 0 && indexLength >= DataObjectFormat.INDEX_TRAILER_SIZE
                && indexPosition + indexLength <= f) {
            int entries = (indexLength - DataObjectFormat.INDEX_HEADER_SIZE - DataObjectFormat.INDEX_TRAILER_SIZE)
                    / DataObjectFormat.ENTRY_SIZE;
            for (int i = 0; i < entries; i++) {
                int e = (int) indexPosition + DataObjectFormat.INDEX_HEADER_SIZE + i * DataObjectFormat.ENTRY_SIZE;
                long pos = bb.getLong(e + DataObjectFormat.ENTRY_POSITION);
                int size = bb.getInt(e + DataObjectFormat.ENTRY_SIZE_FIELD);
                if (pos >= 0 && size > 0 && pos + size <= indexPosition) {
                    CRC32C crc = new CRC32C();
                    crc.update(b, (int) pos, size);
                    bb.putInt(e + DataObjectFormat.ENTRY_CRC, (int) crc.getValue());
                }
            }
            CRC32C crc = new CRC32C();
            crc.update(b, (int) indexPosition, indexLength - DataObjectFormat.INDEX_TRAILER_SIZE);
            bb.putInt((int) indexPosition + indexLength - DataObjectFormat.INDEX_TRAILER_SIZE, (int) crc.getValue());
        }
        CRC32C crc = new CRC32C();
        crc.update(b, f, DataObjectFormat.FOOTER_CRC_OFFSET);
        bb.putInt(f + DataObjectFormat.FOOTER_CRC_OFFSET, (int) crc.getValue());
        return b;
    }

    /** As the engine reads an object: the footer, then index and footer in one range, then every block. */
    static void useObject(byte[] input) {
        String key = "data/fuzz";
        long size = input.length;
        ByteBuffer all = ByteBuffer.wrap(input);
        long[] footer = DataObjectIndex.decodeFooter(key,
                all.duplicate().position(Math.max(0, input.length - DataObjectFormat.FOOTER_SIZE)), size);
        int indexPosition = (int) footer[0];
        DataObjectIndex index = DataObjectIndex.decode(key, all.duplicate().position(indexPosition), size);
        for (BlockInfo b : index.blocks()) {
            ByteBuffer block = all.duplicate().position((int) b.position()).limit((int) (b.position() + b.size()));
            DataObjectIndex.verifyBlock(key, b, block);
            for (var it = RecordBatches.iterate(block.slice()); it.hasNext(); ) {
                sink(it.next().nextOffset());
            }
        }
    }

    @Test
    void dataObjectFooterIndexAndBlocksShouldDecodeOrReportCorruptStorage() {
        report(Fuzz.run("data object footer/index/blocks", validObjects(Fuzz.SEED), DecoderFuzzTest::fixObjectCrcs,
                ErrorKind.CORRUPT_STORAGE, input -> {
                    try {
                        useObject(input);
                    } catch (io.shale.log.ShaleException e) {
                        if (e.kind() == ErrorKind.CORRUPT_RECORD) {
                            // a block whose CRC was repaired holds a damaged batch: the block CRC
                            // was the storage check; the batch's own check reports it as a record
                            throw new io.shale.log.internal.format.CorruptObjectException(e.getMessage(), e);
                        }
                        throw e;
                    }
                }, Fuzz.SEED + 2, Fuzz.CASES));
    }

    // ------------------------------------------------------------------ manifest

    static ObjectMeta object(String key, long size) {
        return new ObjectMeta(key, size, size - 200, ObjectMeta.KIND_MULTI, 1_700_000_000_000L);
    }

    /** A base state (as snapshot bytes) and the deltas that may follow it. */
    static ManifestState baseState() {
        ManifestState s = new ManifestState();
        s.applyDelta(1, 1L, List.of(new ManifestOp.ClaimEpoch(3),
                new ManifestOp.CreateTopic("orders", new UUID(7, 9), Map.of("retention.ms", "1000"), new int[] {0, 1}),
                new ManifestOp.CreateTopic("events", new UUID(8, 9), Map.of(), new int[] {2})), null);
        for (int i = 0; i < 6; i++) {
            ObjectMeta o = object("data/00000000000000000003-" + i, 5_000);
            s.applyDelta(s.version() + 1, 2L, List.of(new ManifestOp.AddObject(o, List.of(
                    new RangeRef(o, i % 3, 100L * i, 100L * i + 50, 5L, 0, 2_000, 0, 1, 12345),
                    new RangeRef(o, (i + 1) % 3, 100L * i + 50, 100L * i + 100, 6L, 2_000, 2_000, 1, 3, 0)))), null);
        }
        s.applyDelta(s.version() + 1, 3L, List.of(new ManifestOp.SetLogStart(0, 120)), null);
        return s;
    }

    static List<byte[]> validDeltas() {
        ObjectMeta o = object("data/00000000000000000003-c9", 9_000);
        List<List<ManifestOp>> opLists = List.of(
                List.of(new ManifestOp.ClaimEpoch(4)),
                List.of(new ManifestOp.CreateTopic("new", new UUID(1, 1), Map.of("segment.bytes", "2048"), new int[] {3, 4})),
                List.of(new ManifestOp.AddPartitions("events", new int[] {3})),
                List.of(new ManifestOp.AlterTopicConfig("orders", Map.of("retention.ms", "5"))),
                List.of(new ManifestOp.DeleteTopic("events")),
                List.of(new ManifestOp.AddObject(o, List.of(new RangeRef(o, 0, 0, 300, 9L, 0, 8_000, 0, 4, 0))),
                        new ManifestOp.RemoveRanges(0, List.of(new ManifestOp.RangeId("data/00000000000000000003-0", 0),
                                new ManifestOp.RangeId("data/00000000000000000003-3", 300)))),
                List.of(new ManifestOp.SetLogStart(1, 160), new ManifestOp.SetLogStart(2, 10)),
                List.of(new ManifestOp.ObjectsDeleted(List.of("data/00000000000000000003-0"))));
        List<byte[]> out = new ArrayList<>();
        long number = baseState().version() + 1;
        for (List<ManifestOp> ops : opLists) {
            out.add(ManifestCodec.encodeDelta(number, 3, 1_700_000_000_000L, ops));
        }
        return out;
    }

    /** Recomputes the body length and the trailing CRC of a manifest file. */
    static byte[] fixManifestCrc(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(32, b.length - ManifestCodec.HEADER_SIZE - 4);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        bb.putInt(b.length - 4, (int) crc.getValue());
        return b;
    }

    private static final byte[] BASE_SNAPSHOT = ManifestCodec.encodeSnapshot(baseState(), 3, 1L);

    @Test
    void manifestDeltasShouldDecodeAndApplyOrReportCorruptStorage() {
        report(Fuzz.run("manifest delta (decode + apply)", validDeltas(), DecoderFuzzTest::fixManifestCrc,
                ErrorKind.CORRUPT_STORAGE, input -> {
                    ManifestCodec.Delta d = ManifestCodec.decodeDelta("manifest/deltas/x", ByteBuffer.wrap(input));
                    ManifestState s = ManifestCodec.decodeSnapshot("manifest/snapshots/base", ByteBuffer.wrap(BASE_SNAPSHOT));
                    s.applyDelta(s.version() + 1, d.timestampMs(), d.ops(), null);
                    touch(s);
                }, Fuzz.SEED + 3, Fuzz.CASES));
    }

    @Test
    void manifestSnapshotsShouldDecodeOrReportCorruptStorage() {
        ManifestState bigger = baseState();
        bigger.applyDelta(bigger.version() + 1, 4L, List.of(new ManifestOp.DeleteTopic("events")), null);
        List<byte[]> valid = List.of(BASE_SNAPSHOT, ManifestCodec.encodeSnapshot(bigger, 3, 5L),
                ManifestCodec.encodeSnapshot(new ManifestState(), 1, 1L));
        report(Fuzz.run("manifest snapshot", valid, DecoderFuzzTest::fixManifestCrc, ErrorKind.CORRUPT_STORAGE,
                input -> touch(ManifestCodec.decodeSnapshot("manifest/snapshots/x", ByteBuffer.wrap(input))),
                Fuzz.SEED + 4, Fuzz.CASES));
    }

    static void touch(ManifestState s) {
        long sum = s.version() + s.writerEpoch() + s.nextPartitionId() + s.storedBytes();
        for (TopicMeta t : s.topics().values()) {
            sum += t.partitionCount() + t.configs().size();
        }
        for (PartitionMeta p : s.partitions()) {
            sum += p.logStartOffset() + p.endOffset();
            for (RangeRef r : p.ranges()) {
                sum += r.baseOffset() + r.length();
            }
            sum += p.find(p.logStartOffset()) == null ? 0 : 1;
        }
        sum += s.pendingDeletes().size() + s.objects().size();
        sink(sum);
    }

    // ------------------------------------------------------------------ object WAL objects

    static byte[] walObject(long epoch, long first, List<byte[]> payloads) {
        int size = ObjectWalFormat.HEADER_LENGTH + ObjectWalFormat.TRAILER_LENGTH;
        for (byte[] p : payloads) {
            size += ObjectWalFormat.FRAME_HEADER_LENGTH + p.length;
        }
        byte[] out = new byte[size];
        ObjectWalFormat.encodeHeader(out, epoch, first, first + payloads.size() - 1, payloads.size());
        int pos = ObjectWalFormat.HEADER_LENGTH;
        byte[] fh = new byte[ObjectWalFormat.FRAME_HEADER_LENGTH];
        CRC32C crc = new CRC32C();
        for (int i = 0; i < payloads.size(); i++) {
            ObjectWalFormat.encodeFrameHeader(fh, crc, first + i, i % 3, 10L * i, ByteBuffer.wrap(payloads.get(i)));
            System.arraycopy(fh, 0, out, pos, fh.length);
            System.arraycopy(payloads.get(i), 0, out, pos + fh.length, payloads.get(i).length);
            pos += fh.length + payloads.get(i).length;
        }
        byte[] trailer = new byte[ObjectWalFormat.TRAILER_LENGTH];
        ObjectWalFormat.encodeTrailer(trailer, payloads.size(), size);
        System.arraycopy(trailer, 0, out, pos, trailer.length);
        return out;
    }

    @Test
    void objectWalObjectsShouldDecodeWithoutThrowingAndDeliverOnlyVerifiedFrames() {
        List<byte[]> batches = validBatches(Fuzz.SEED);
        List<byte[]> valid = new ArrayList<>();
        for (int o = 0; o < 4; o++) {
            List<byte[]> payloads = new ArrayList<>();
            for (int i = 0; i <= o * 2; i++) {
                payloads.add(batches.get((o + i) % batches.size()));
            }
            valid.add(walObject(5, (5L << ObjectWalFormat.EPOCH_SHIFT) + 100 * o, payloads));
        }
        Fuzz.Tally t = Fuzz.run("object-WAL object", valid, DecoderFuzzTest::fixWalObjectCrcs, ErrorKind.CORRUPT_STORAGE,
                input -> {
            List<ByteBuffer> delivered = new ArrayList<>();
            ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(input), -1, -1,
                    (seq, stream, base, payload) -> delivered.add(copy(payload)));
            if (r.framesDelivered() != delivered.size() || delivered.size() > Math.max(0, r.header() == null ? 0
                    : r.header().entryCount())) {
                throw new AssertionError("decode reported " + r + " but delivered " + delivered.size() + " frames");
            }
            if (r.status() != ObjectWalFormat.Status.COMPLETE) {
                throw new io.shale.log.internal.format.CorruptObjectException("object-WAL object: " + r.damage());
            }
        }, Fuzz.SEED + 5, Fuzz.CASES);
        report(t);
    }

    /** Recomputes the header CRC, each frame's CRC (following the length fields) and the trailer CRC. */
    static byte[] fixWalObjectCrcs(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, ObjectWalFormat.HEADER_CRC_OFFSET);
        bb.putInt(ObjectWalFormat.HEADER_CRC_OFFSET, (int) crc.getValue());
        int count = bb.getInt(ObjectWalFormat.HEADER_ENTRY_COUNT_OFFSET);
        int pos = ObjectWalFormat.HEADER_LENGTH;
        int end = b.length - ObjectWalFormat.TRAILER_LENGTH;
        for (int i = 0; i < count && pos + ObjectWalFormat.FRAME_HEADER_LENGTH <= end; i++) {
            int len = bb.getInt(pos + ObjectWalFormat.FRAME_PAYLOAD_LENGTH_OFFSET);
            if (len < 0 || len > end - pos - ObjectWalFormat.FRAME_HEADER_LENGTH) {
                break;
            }
            crc.reset();
            crc.update(b, pos + ObjectWalFormat.FRAME_PAYLOAD_LENGTH_OFFSET,
                    ObjectWalFormat.FRAME_HEADER_LENGTH - ObjectWalFormat.FRAME_PAYLOAD_LENGTH_OFFSET + len);
            bb.putInt(pos + ObjectWalFormat.FRAME_CRC_OFFSET, (int) crc.getValue());
            pos += ObjectWalFormat.FRAME_HEADER_LENGTH + len;
        }
        crc.reset();
        crc.update(b, end, ObjectWalFormat.TRAILER_CRC_OFFSET);
        bb.putInt(end + ObjectWalFormat.TRAILER_CRC_OFFSET, (int) crc.getValue());
        return b;
    }

    static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocate(b.remaining());
        c.put(b.duplicate()).flip();
        return c;
    }

    private static long touch(ByteBuffer b) {
        if (b == null) {
            return 0;
        }
        long s = 0;
        for (int i = b.position(); i < b.limit(); i++) {
            s += b.get(i);
        }
        return s;
    }

    private static volatile long sink;

    static void sink(long v) {
        sink += v;
    }
}
