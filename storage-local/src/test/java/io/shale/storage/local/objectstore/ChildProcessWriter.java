package io.shale.storage.local.objectstore;

import io.shale.log.spi.Payload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The main class of child JVMs started by {@link LocalDirectoryObjectStoreProcessTest}: a second
 * process writing to the same directory, or a writer that gets killed with SIGKILL.
 *
 * <pre>
 *   race  ROOT NAME KEYS GO_FILE   wait for GO_FILE, then putIfAbsent race/0..KEYS-1 with token NAME;
 *                                  prints "RESULT i true|false" per key
 *   crash ROOT                     put/putIfAbsent/overwrite forever; prints "ACK kind i" after each
 * </pre>
 */
public final class ChildProcessWriter {
    private ChildProcessWriter() {
    }

    /** Content of race key {@code i} written by process {@code name}. */
    static byte[] raceContent(String name, int i) {
        return bytes(1_000 + i, (name + "/" + i).hashCode());
    }

    /** Content of crash-test object {@code i}: sizes up to ~2 MiB so that a kill often lands mid-write. */
    static byte[] crashContent(int i) {
        return bytes(1 + (int) ((i * 7_919L) % (2 << 20)), i);
    }

    static byte[] flipContent(boolean b) {
        return bytes(b ? 300_000 : 700_000, b ? 1 : 2);
    }

    static byte[] bytes(int length, long seed) {
        byte[] out = new byte[length];
        new SplittableRandom(seed).nextBytes(out);
        return out;
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[1]);
        switch (args[0]) {
            case "race" -> race(root, args[2], Integer.parseInt(args[3]), Path.of(args[4]));
            case "crash" -> crash(root);
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void race(Path root, String name, int keys, Path go) throws Exception {
        try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(root)) {
            System.out.println("READY");
            System.out.flush();
            while (!Files.exists(go)) {
                Thread.onSpinWait();
            }
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < keys; i++) {
                boolean won = store.putIfAbsent("race/" + i, Payload.of(raceContent(name, i)), name).join();
                out.append("RESULT ").append(i).append(' ').append(won).append('\n');
            }
            System.out.write(out.toString().getBytes(StandardCharsets.UTF_8));
            System.out.flush();
        }
    }

    private static void crash(Path root) {
        try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(root)) {
            for (int i = 0; ; i++) {
                store.put("crash/" + i, Payload.of(crashContent(i)), "t-" + i).join();
                System.out.println("ACK put " + i);
                store.putIfAbsent("crash/c-" + i, Payload.of(crashContent(i + 1)), "c-" + i).join();
                System.out.println("ACK create " + i);
                boolean b = i % 2 == 0;
                store.put("crash/flip", Payload.of(flipContent(b)), b ? "flip-b" : "flip-a").join();
                System.out.println("ACK flip " + i);
                System.out.flush();
            }
        }
    }
}
