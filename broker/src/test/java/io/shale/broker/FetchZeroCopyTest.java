package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.shale.log.ConsumerOffsets;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.record.SimpleRecord;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import io.shale.storage.local.LocalStorage;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetch responses carry the stored batches without copying them: the bytes Netty is handed are
 * the store's memory, and serializing a response allocates nothing in proportion to its records.
 */
class FetchZeroCopyTest {
    private static final short VERSION = 12; // topics by name

    @TempDir
    Path dir;

    private static FetchResponseData response(FetchResult result) {
        FetchResponseData data = new FetchResponseData();
        FetchResponseData.FetchableTopicResponse t = new FetchResponseData.FetchableTopicResponse().setTopic("t");
        t.partitions().add(new FetchResponseData.PartitionData().setPartitionIndex(0)
                .setHighWatermark(result.highWatermark()).setLastStableOffset(result.highWatermark())
                .setLogStartOffset(result.logStartOffset()).setRecords(new BatchViews.Records(result)));
        data.responses().add(t);
        return data;
    }

    private static List<String> values(byte[] wire) {
        ByteBuffer b = ByteBuffer.wrap(wire);
        assertThat(b.getInt()).isEqualTo(wire.length - 4);
        ResponseHeader.parse(b, ApiKeys.FETCH.responseHeaderVersion(VERSION));
        FetchResponseData parsed = FetchResponse.parse(new org.apache.kafka.common.protocol.ByteBufferAccessor(b), VERSION).data();
        List<String> out = new ArrayList<>();
        for (Record r : ((MemoryRecords) parsed.responses().get(0).partitions().get(0).records()).records()) {
            out.add(StandardCharsets.UTF_8.decode(r.value()).toString());
        }
        return out;
    }

    @Test
    void theResponseBytesAreTheStoredBytesNotACopy() {
        // "stored" memory holding two batches back to back, as in a log cache chunk
        ByteBuffer first = MemoryRecords.withRecords(0L, Compression.NONE,
                new org.apache.kafka.common.record.internal.SimpleRecord("value-0".getBytes(StandardCharsets.UTF_8))).buffer();
        ByteBuffer second = MemoryRecords.withRecords(1L, Compression.NONE,
                new org.apache.kafka.common.record.internal.SimpleRecord("value-1".getBytes(StandardCharsets.UTF_8))).buffer();
        byte[] memory = new byte[first.remaining() + second.remaining()];
        int split = first.remaining();
        first.get(memory, 0, split);
        second.get(memory, split, memory.length - split);
        ByteBuffer mem = ByteBuffer.wrap(memory);
        FetchResult result = new FetchResult(0, List.of(RecordBatch.wrap(mem.slice(0, split)),
                RecordBatch.wrap(mem.slice(split, memory.length - split))), 2, 2, 0);

        ByteBuf out = KafkaConnection.responseBytes(7, ApiKeys.FETCH, VERSION, response(result));
        try {
            assertThat(values(ByteBufUtil.getBytes(out))).containsExactly("value-0", "value-1");

            // change the stored bytes after the response was built: the response shows the change,
            // so it reads the stored memory itself
            int at = indexOf(memory, "value-1".getBytes(StandardCharsets.UTF_8));
            memory[at] = 'V';
            String wire = new String(ByteBufUtil.getBytes(out), StandardCharsets.ISO_8859_1);
            assertThat(wire).contains("Value-1").doesNotContain("value-1").contains("value-0");
        } finally {
            out.release();
        }
    }

    @Test
    void serializingAFetchOfStoredBatchesAllocatesNoCopyOfThem() {
        int batches = 64;
        try (LogStore store = LocalStorage.open(dir)) {
            store.createTopic("t", 1);
            TopicPartition tp = TopicPartition.of("t", 0);
            Random random = new Random(42);
            for (int i = 0; i < batches; i++) {
                List<SimpleRecord> records = new ArrayList<>();
                for (int r = 0; r < 16; r++) {
                    byte[] value = new byte[4096];
                    random.nextBytes(value); // incompressible, though the topic does not compress anyway
                    records.add(SimpleRecord.of(null, value));
                }
                store.append(tp, records).join();
            }
            FetchResult result = store.read(tp, 0, 64 << 20);
            assertThat(result.batches()).hasSize(batches);
            long size = result.sizeInBytes();

            Supplier<ByteBuf> zeroCopy = () -> KafkaConnection.responseBytes(7, ApiKeys.FETCH, VERSION, response(result));
            Supplier<ByteBuf> copying = () -> copyingResponse(result); // what the broker did before
            ByteBuf a = zeroCopy.get();
            ByteBuf b = copying.get();
            try {
                assertThat(ByteBufUtil.equals(a, b)).as("same bytes on the wire").isTrue();
            } finally {
                a.release();
                b.release();
            }
            long zeroCopyBytes = allocatedBy(zeroCopy);
            long copyingBytes = allocatedBy(copying);
            System.out.printf("fetch response of %d record bytes in %d batches: %d bytes allocated zero-copy,"
                    + " %d bytes allocated copying%n", size, batches, zeroCopyBytes, copyingBytes);
            assertThat(copyingBytes).as("the copying path copies the records 3 times").isGreaterThan(3 * size);
            assertThat(zeroCopyBytes).as("the zero-copy path allocates only per batch, not per byte").isLessThan(size / 20);
        }
    }

    @Test
    void theFetchHandlerHandsOnTheStoredViewsAndAllocatesNoCopyOfThem() throws Exception {
        try (LogStore store = LocalStorage.open(dir)) {
            store.createTopic("t", 1);
            TopicPartition tp = TopicPartition.of("t", 0);
            byte[] value = new byte[64 * 1024];
            new Random(7).nextBytes(value);
            for (int i = 0; i < 32; i++) {
                store.append(tp, List.of(SimpleRecord.of(null, value))).join();
            }
            long size = store.read(tp, 0, 64 << 20).sizeInBytes();
            GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
            try (TransactionCoordinator txns = new TransactionCoordinator(store, groups, java.time.Clock.systemUTC(), 60_000)) {
                KafkaApis apis = new KafkaApis(store, Runnable::run, 0, "127.0.0.1", 9092, "cluster", groups, txns);
                FetchRequestData req = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0)
                        .setMaxBytes(64 << 20);
                FetchRequestData.FetchTopic ft = new FetchRequestData.FetchTopic().setTopic("t");
                ft.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                        .setPartitionMaxBytes(64 << 20).setCurrentLeaderEpoch(-1));
                req.topics().add(ft);
                AbstractRequest request = AbstractRequest.parseRequest(ApiKeys.FETCH, VERSION,
                        MessageUtil.toByteBufferAccessor(req, VERSION)).request;
                RequestHeader header = new RequestHeader(ApiKeys.FETCH, VERSION, "test", 3);

                Supplier<ByteBuf> fetch = () -> KafkaConnection.responseBytes(3, ApiKeys.FETCH, VERSION,
                        apis.handle(header, request, "/127.0.0.1").join());
                ByteBuf warm = fetch.get(); // warm up (class loading, first-use caches)
                try {
                    assertThat(warm.readableBytes()).isGreaterThan((int) size);
                } finally {
                    warm.release();
                }
                FetchResponseData data = (FetchResponseData) apis.handle(header, request, "/127.0.0.1").join();
                assertThat(data.responses().get(0).partitions().get(0).records()).isInstanceOf(BatchViews.Records.class);
                long allocated = allocatedBy(fetch);
                System.out.printf("fetch handled and serialized, %d record bytes: %d bytes allocated%n", size, allocated);
                assertThat(allocated).as("handling and serializing a fetch copies no record bytes").isLessThan(size / 20);
            } finally {
                groups.close();
            }
        }
    }

    /** The broker's response serialization before zero-copy: one array of all batches, serialized, then copied into Netty. */
    private static ByteBuf copyingResponse(FetchResult result) {
        ByteBuffer all = ByteBuffer.allocate((int) result.sizeInBytes());
        for (RecordBatch batch : result.batches()) {
            all.put(batch.buffer().duplicate());
        }
        all.flip();
        FetchResponseData data = response(result);
        data.responses().get(0).partitions().get(0).setRecords(MemoryRecords.readableRecords(all));
        ByteBuffer bytes = RequestUtils.serialize(new ResponseHeaderData().setCorrelationId(7),
                ApiKeys.FETCH.responseHeaderVersion(VERSION), data, VERSION);
        ByteBuf out = Unpooled.buffer(4 + bytes.remaining());
        out.writeInt(bytes.remaining());
        out.writeBytes(bytes);
        return out;
    }

    private static long allocatedBy(Supplier<ByteBuf> serialize) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        ByteBuf buf = serialize.get();
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        buf.release();
        return allocated;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
