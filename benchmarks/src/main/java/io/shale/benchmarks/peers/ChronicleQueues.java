package io.shale.benchmarks.peers;

import java.io.File;
import java.nio.file.Path;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;

/** Builds the Chronicle queues the peers use; see the benchmarks for why each roll cycle. */
final class ChronicleQueues {
    private ChronicleQueues() {
    }

    /** A binary queue in {@code dir} rolling every {@code cycle}. */
    static SingleChronicleQueue open(Path dir, RollCycle cycle, boolean deleteReleasedFiles) {
        SingleChronicleQueueBuilder builder = SingleChronicleQueueBuilder.binary(dir).rollCycle(cycle);
        if (deleteReleasedFiles) {
            // a released cycle file is no longer written: drop it so the disk stays bounded
            builder.storeFileListener((int c, File file) -> file.delete());
        }
        return builder.build();
    }
}
