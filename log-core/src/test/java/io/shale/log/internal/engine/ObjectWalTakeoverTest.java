package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ObjectWalTakeoverTest {

    @Test
    void anotherNodesWalPrefixReplacesTheNodeIdInThisNodesOwn() {
        assertThat(ObjectWalTakeover.walPrefixOf("wal/node-b/", "node-b", "node-a")).isEqualTo("wal/node-a/");
        assertThat(ObjectWalTakeover.walPrefixOf("cluster/x/wal/b/", "b", "a")).isEqualTo("cluster/x/wal/a/");
        assertThat(ObjectWalTakeover.walPrefixOf("node-b/", "node-b", "node-a")).isEqualTo("node-a/");
        assertThatThrownBy(() -> ObjectWalTakeover.walPrefixOf("wal/", "node-b", "node-a"))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("'wal/'").contains("node-b/");
                });
    }

    @Test
    void anEntryEndsAfterItsLastBatchsLastRecord() {
        ByteBuffer one = batch(7, 3);
        ByteBuffer two = batch(10, 2);
        ByteBuffer both = ByteBuffer.allocate(one.remaining() + two.remaining()).put(one.duplicate()).put(two.duplicate()).flip();
        assertThat(ObjectWalTakeover.endOf(one)).isEqualTo(10);
        assertThat(ObjectWalTakeover.endOf(both)).isEqualTo(12);
        assertThat(both.position()).isZero();
        assertThatThrownBy(() -> ObjectWalTakeover.endOf(ByteBuffer.allocate(0)))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
    }

    private static ByteBuffer batch(long base, int records) {
        RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(base);
        for (int i = 0; i < records; i++) {
            b.append(SimpleRecord.of(null, ("v" + i).getBytes(StandardCharsets.UTF_8)));
        }
        return b.build();
    }
}
