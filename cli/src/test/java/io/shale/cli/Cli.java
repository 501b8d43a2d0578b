package io.shale.cli;

import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Runs the CLI in-process with captured output; builds small stores for the tests. */
final class Cli {
    private Cli() {
    }

    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    static Result run(String... args) {
        CommandLine cl = ShaleCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /**
     * Fills {@code store}: topic "orders" with 2 partitions, {@code perPartition} records each in
     * batches of 5 ("order-p-i", keyed "customer-i"), then "events" with 1 partition and 3 records;
     * uploads everything.
     */
    static void fill(LogStore store, int perPartition) {
        store.createTopic("orders", 2, Map.of());
        store.createTopic("events", 1, Map.of());
        for (int p = 0; p < 2; p++) {
            TopicPartition tp = TopicPartition.of("orders", p);
            for (int i = 0; i < perPartition; i += 5) {
                List<SimpleRecord> batch = new ArrayList<>();
                for (int k = i; k < Math.min(perPartition, i + 5); k++) {
                    batch.add(SimpleRecord.of("customer-" + k, "order-" + p + "-" + k));
                }
                store.append(tp, batch).join();
            }
        }
        store.append(TopicPartition.of("events", 0), List.of(SimpleRecord.of("a", "e0"), SimpleRecord.of("b", "e1"),
                SimpleRecord.of("c", "e2"))).join();
        store.flush();
    }
}
