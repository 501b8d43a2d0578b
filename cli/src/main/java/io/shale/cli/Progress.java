package io.shale.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A progress bar on stderr for long work, redrawn in place ({@code \r}) at most 5 times a second.
 * Drawn only when enabled: a terminal is attached ({@code System.console() != null}) or
 * {@code --progress} was given. Never written to stdout, so piped output stays clean.
 */
final class Progress implements AutoCloseable {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final boolean enabled;
    private final String label;
    private final long total;
    private long done;
    private long lastDraw;
    private boolean drawn;

    Progress(PrintWriter err, boolean enabled, String label, long total) {
        this.err = err;
        this.enabled = enabled;
        this.label = label;
        this.total = Math.max(0, total);
        this.lastDraw = System.nanoTime() - REDRAW_NANOS;
    }

    /** Whether to draw: asked for, or stderr is likely a terminal. */
    static boolean wanted(boolean option) {
        return option || System.console() != null;
    }

    void advance(long units) {
        done += units;
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw >= REDRAW_NANOS || done >= total) {
            lastDraw = now;
            draw();
        }
    }

    private void draw() {
        double fraction = total == 0 ? 1 : Math.min(1, (double) done / total);
        int filled = (int) Math.round(fraction * WIDTH);
        err.print(String.format(Locale.ROOT, "\r%s [%s%s] %3d%% %s / %s", label, "#".repeat(filled),
                ".".repeat(WIDTH - filled), Math.round(fraction * 100), Format.bytes(done), Format.bytes(total)));
        err.flush();
        drawn = true;
    }

    /** Ends the bar's line (so later output starts on a fresh line). */
    @Override
    public void close() {
        if (enabled && drawn) {
            err.println();
            err.flush();
        }
    }
}
