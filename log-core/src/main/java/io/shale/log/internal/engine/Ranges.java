package io.shale.log.internal.engine;

import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.RangeRef;
import java.util.ArrayList;
import java.util.List;

/** Derives the manifest's per-partition runs from a written object's blocks. */
final class Ranges {
    private Ranges() {
    }

    /** Consecutive blocks of one partition with contiguous offsets form one run. */
    static List<RangeRef> fromBlocks(ObjectMeta object, List<BlockInfo> blocks) {
        List<RangeRef> out = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= blocks.size(); i++) {
            boolean breakHere = i == blocks.size()
                    || blocks.get(i).partitionId() != blocks.get(start).partitionId()
                    || blocks.get(i).baseOffset() != blocks.get(i - 1).nextOffset();
            if (breakHere) {
                BlockInfo first = blocks.get(start);
                BlockInfo last = blocks.get(i - 1);
                long maxTs = Long.MIN_VALUE;
                for (int j = start; j < i; j++) {
                    maxTs = Math.max(maxTs, blocks.get(j).maxTimestamp());
                }
                int count = i - start;
                long length = last.position() + last.size() - first.position();
                out.add(new RangeRef(object, first.partitionId(), first.baseOffset(), last.nextOffset(), maxTs,
                        first.position(), (int) length, start, count, count == 1 ? first.crc() : 0));
                start = i;
            }
        }
        return out;
    }
}
