package io.shale.reliability.fuzz;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * A small mutation fuzzer shared by the decoder fuzz tests: takes valid encodings, damages them
 * (bit flips, byte overwrites, boundary values written over 2-, 4- and 8-byte fields, truncation,
 * extension, inserted and deleted runs, duplicated ranges, random bytes), optionally repairs the
 * format's checksums so the damage reaches the parser, and runs the decoder on each input with a
 * time bound. An input must decode or fail with the documented corruption kind; anything else
 * (another exception, an error, a hang) fails the test with the seed and the mutation.
 *
 * <p>Cases per decoder: {@code -Dshale.fuzz.cases=N} (default 4,000 per target); seed:
 * {@code -Dshale.fuzz.seed=N}.
 */
final class Fuzz {
    static final long SEED = Long.getLong("shale.fuzz.seed", 0xF022_2026L);
    static final int CASES = Integer.getInteger("shale.fuzz.cases", 4_000);
    /** Bound of one case; generous because CI machines are slow and shared. */
    static final long CASE_TIMEOUT_MS = 10_000;

    private static final ExecutorService WORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-case");
        t.setDaemon(true);
        return t;
    });

    /** How one case ended. */
    enum Outcome {
        DECODED, CORRUPT
    }

    /** One mutated input and how it was made. */
    record Input(byte[] bytes, String how) {
    }

    /** Counts of a fuzz run. */
    static final class Tally {
        final String target;
        final Map<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
        int cases;

        Tally(String target) {
            this.target = target;
        }

        void add(Outcome o) {
            cases++;
            outcomes.merge(o, 1, Integer::sum);
        }

        int count(Outcome o) {
            return outcomes.getOrDefault(o, 0);
        }

        @Override
        public String toString() {
            return target + ": " + cases + " inputs, " + count(Outcome.DECODED) + " decoded, " + count(Outcome.CORRUPT)
                    + " rejected as corrupt";
        }
    }

    @FunctionalInterface
    interface Decoder {
        /** Decodes and uses the input; throws the documented corruption exception for bad input. */
        void decode(byte[] input) throws Exception;
    }

    private Fuzz() {
    }

    /**
     * Runs {@code cases} mutations of the {@code valid} inputs through {@code decoder}. {@code fixChecksums}
     * (may be null) repairs checksums of half of the inputs. {@code corruptKind} is the only
     * {@link ShaleException} kind allowed; {@code alsoAllowed} lists other exception types the
     * decoder documents.
     */
    static Tally run(String target, List<byte[]> valid, UnaryOperator<byte[]> fixChecksums, ErrorKind corruptKind,
            Decoder decoder, long seed, int cases) {
        Tally tally = new Tally(target);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < cases; i++) {
            long caseSeed = rnd.nextLong();
            SplittableRandom c = new SplittableRandom(caseSeed);
            byte[] base = valid.get(c.nextInt(valid.size()));
            Input in = mutate(base, c);
            byte[] bytes = in.bytes();
            String how = in.how();
            if (fixChecksums != null && c.nextBoolean()) {
                try {
                    bytes = fixChecksums.apply(bytes);
                    how += " +checksums repaired";
                } catch (RuntimeException e) {
                    // too damaged to locate the checksums: use as is
                }
            }
            tally.add(runCase(target, decoder, bytes, corruptKind, "case seed " + caseSeed + " (" + how + ")"));
        }
        return tally;
    }

    static Outcome runCase(String target, Decoder decoder, byte[] bytes, ErrorKind corruptKind, String what) {
        Future<Outcome> f = WORKER.submit(() -> {
            try {
                decoder.decode(bytes);
                return Outcome.DECODED;
            } catch (ShaleException e) {
                if (e.kind() != corruptKind) {
                    throw new AssertionError(target + ", " + what + ": failed with kind " + e.kind() + " instead of "
                            + corruptKind + ": " + e.getMessage(), e);
                }
                if (e.getMessage() == null || e.getMessage().isBlank()) {
                    throw new AssertionError(target + ", " + what + ": corruption reported without a message", e);
                }
                return Outcome.CORRUPT;
            } catch (AssertionError e) {
                throw e;
            } catch (Throwable e) {
                throw new AssertionError(target + ", " + what + ": threw " + e, e);
            }
        });
        try {
            return f.get(CASE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError(target + ", " + what + ": did not finish within " + CASE_TIMEOUT_MS + " ms (hang?)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AssertionError ae) {
                throw ae;
            }
            throw new AssertionError(target + ", " + what + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static final long[] BOUNDARIES = {0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, Integer.MAX_VALUE,
            Integer.MIN_VALUE, 0x7FFFFFF0L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 32, 1L << 40};

    /** One to three damage operations on a copy of {@code valid}. */
    static Input mutate(byte[] valid, SplittableRandom r) {
        byte[] b = valid.clone();
        List<String> ops = new ArrayList<>();
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            int len = b.length;
            int op = r.nextInt(10);
            if (len == 0) {
                op = 6;
            }
            switch (op) {
                case 0 -> { // bit flips
                    int flips = 1 + r.nextInt(4);
                    for (int i = 0; i < flips; i++) {
                        int at = r.nextInt(len);
                        b[at] ^= (byte) (1 << r.nextInt(8));
                    }
                    ops.add("flip " + flips + " bits");
                }
                case 1 -> { // random byte overwrite
                    int at = r.nextInt(len);
                    b[at] = (byte) r.nextInt(256);
                    ops.add("byte at " + at);
                }
                case 2, 3 -> { // boundary value over an aligned-ish field
                    int width = new int[] {2, 4, 8}[r.nextInt(3)];
                    if (len >= width) {
                        int at = r.nextInt(len - width + 1);
                        long v = BOUNDARIES[r.nextInt(BOUNDARIES.length)];
                        for (int i = 0; i < width; i++) {
                            b[at + i] = (byte) (v >>> (8 * (width - 1 - i)));
                        }
                        ops.add(width + "-byte value " + v + " at " + at);
                    }
                }
                case 4 -> { // truncate
                    int to = r.nextInt(len);
                    b = Arrays.copyOf(b, to);
                    ops.add("truncate to " + to);
                }
                case 5 -> { // delete a run
                    int at = r.nextInt(len);
                    int del = 1 + r.nextInt(Math.min(16, len - at));
                    byte[] out = new byte[len - del];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + del, out, at, len - at - del);
                    b = out;
                    ops.add("delete " + del + " at " + at);
                }
                case 6 -> { // insert random bytes
                    int at = len == 0 ? 0 : r.nextInt(len + 1);
                    int ins = 1 + r.nextInt(16);
                    byte[] out = new byte[len + ins];
                    System.arraycopy(b, 0, out, 0, at);
                    for (int i = 0; i < ins; i++) {
                        out[at + i] = (byte) r.nextInt(256);
                    }
                    System.arraycopy(b, at, out, at + ins, len - at);
                    b = out;
                    ops.add("insert " + ins + " at " + at);
                }
                case 7 -> { // extend with garbage
                    int ext = 1 + r.nextInt(64);
                    byte[] out = Arrays.copyOf(b, len + ext);
                    for (int i = len; i < out.length; i++) {
                        out[i] = (byte) r.nextInt(256);
                    }
                    b = out;
                    ops.add("extend by " + ext);
                }
                case 8 -> { // copy a range over another
                    int from = r.nextInt(len);
                    int to = r.nextInt(len);
                    int cnt = Math.min(1 + r.nextInt(32), Math.min(len - from, len - to));
                    System.arraycopy(b.clone(), from, b, to, cnt);
                    ops.add("copy " + cnt + " from " + from + " to " + to);
                }
                default -> { // random bytes behind the first few (keeps magic/header sometimes)
                    int keep = Math.min(len, r.nextInt(64));
                    for (int i = keep; i < len; i++) {
                        b[i] = (byte) r.nextInt(256);
                    }
                    ops.add("random after " + keep);
                }
            }
        }
        return new Input(b, String.join(", ", ops));
    }
}
