package io.shale.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import javax.imageio.ImageIO;

/**
 * Horizontal bar charts on a log scale, drawn with Java2D and written as PNG: throughput (MB/s
 * per benchmark, coloured by limit / peer / Shale) and latency (p50, p99, p99.9 per benchmark).
 * Headless; each call writes one file.
 */
final class Charts {
    static final int WIDTH = 1300;
    private static final int ROW_HEIGHT = 24;
    private static final int TOP = 70;
    private static final int BOTTOM = 60;
    private static final int LABEL_WIDTH = 540;
    private static final int RIGHT = 90;
    private static final Color BACKGROUND = Color.WHITE;
    private static final Color GRID = new Color(0xDD, 0xDD, 0xDD);
    private static final Color TEXT = new Color(0x22, 0x22, 0x22);
    static final Color LIMIT = new Color(0x8C, 0x8C, 0x8C);
    static final Color PEER = new Color(0xF5, 0x85, 0x18);
    static final Color SHALE = new Color(0x54, 0xA2, 0x4B);
    private static final Color[] PERCENTILES = {new Color(0x9E, 0xCA, 0xE1), new Color(0x42, 0x92, 0xC6),
        new Color(0x08, 0x45, 0x94)};

    private Charts() {
    }

    /** One bar of a chart: a label, its values (one per series) and a colour for single-series charts. */
    record Bar(String label, double[] values, Color color) {
    }

    /** MB/s of every row that has it. Returns false (and writes nothing) when no row has it. */
    static boolean throughput(List<Row> rows, String title, Path png) throws IOException {
        List<Bar> bars = new ArrayList<>();
        for (Row r : rows) {
            OptionalDouble mb = r.mbPerSecond();
            if (mb.isPresent() && mb.getAsDouble() > 0) {
                Color c = switch (r.category()) {
                    case LIMIT -> LIMIT;
                    case PEER -> PEER;
                    case SHALE -> SHALE;
                    case OTHER -> TEXT;
                };
                bars.add(new Bar(r.shortName(), new double[] {mb.getAsDouble()}, c));
            }
        }
        if (bars.isEmpty()) {
            return false;
        }
        draw(bars, title, "MB/s (10^6 payload bytes per second), log scale", new String[] {"limit", "peer", "Shale"},
                new Color[] {LIMIT, PEER, SHALE}, png);
        return true;
    }

    /** p50 / p99 / p99.9 in µs of every row with a SampleTime result. Returns false when there is none. */
    static boolean latency(List<Row> rows, String title, Path png) throws IOException {
        List<Bar> bars = new ArrayList<>();
        for (Row r : rows) {
            OptionalDouble p50 = r.percentileMicros("50.0");
            OptionalDouble p99 = r.percentileMicros("99.0");
            OptionalDouble p999 = r.percentileMicros("99.9");
            if (p50.isPresent() && p99.isPresent() && p999.isPresent()) {
                bars.add(new Bar(r.shortName() + " (" + r.threads + "t)",
                        new double[] {p50.getAsDouble(), p99.getAsDouble(), p999.getAsDouble()}, null));
            }
        }
        if (bars.isEmpty()) {
            return false;
        }
        draw(bars, title, "latency per operation, µs, log scale", new String[] {"p50", "p99", "p99.9"}, PERCENTILES,
                png);
        return true;
    }

    private static void draw(List<Bar> bars, String title, String axisTitle, String[] legend, Color[] legendColors,
            Path png) throws IOException {
        int series = bars.get(0).values().length;
        int rowHeight = series == 1 ? ROW_HEIGHT : ROW_HEIGHT + 8 * (series - 1);
        int height = TOP + bars.size() * rowHeight + BOTTOM;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(BACKGROUND);
            g.fillRect(0, 0, WIDTH, height);

            double min = Double.MAX_VALUE;
            double max = 0;
            for (Bar b : bars) {
                for (double v : b.values()) {
                    if (v > 0) {
                        min = Math.min(min, v);
                        max = Math.max(max, v);
                    }
                }
            }
            double lo = Math.pow(10, Math.floor(Math.log10(min)));
            double hi = Math.pow(10, Math.ceil(Math.log10(max)));
            if (hi <= lo) {
                hi = lo * 10;
            }
            int x0 = LABEL_WIDTH;
            int x1 = WIDTH - RIGHT;
            int plotBottom = TOP + bars.size() * rowHeight;

            g.setColor(TEXT);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, 12, 24);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            int lx = 12;
            for (int i = 0; i < legend.length; i++) {
                g.setColor(legendColors[i]);
                g.fillRect(lx, 38, 14, 12);
                g.setColor(TEXT);
                g.drawString(legend[i], lx + 18, 49);
                lx += 30 + g.getFontMetrics().stringWidth(legend[i]);
            }

            // decades: grid lines and labels
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            for (double d = lo; d <= hi * 1.0001; d *= 10) {
                int x = xOf(d, lo, hi, x0, x1);
                g.setColor(GRID);
                g.setStroke(new BasicStroke(1f));
                g.drawLine(x, TOP - 4, x, plotBottom);
                g.setColor(TEXT);
                String label = decade(d);
                g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, plotBottom + 16);
            }
            g.drawString(axisTitle, x0, plotBottom + 38);

            FontMetrics fm = g.getFontMetrics(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i < bars.size(); i++) {
                Bar b = bars.get(i);
                int y = TOP + i * rowHeight;
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                g.setColor(TEXT);
                g.drawString(fit(b.label(), fm, LABEL_WIDTH - 16), 12, y + rowHeight / 2 + 4);
                int barHeight = (rowHeight - 6) / series;
                for (int s = 0; s < series; s++) {
                    double v = b.values()[s];
                    if (v <= 0) {
                        continue;
                    }
                    int x = xOf(v, lo, hi, x0, x1);
                    int by = y + 3 + s * barHeight;
                    g.setColor(series == 1 ? b.color() : legendColors[s]);
                    g.fillRect(x0, by, Math.max(1, x - x0), barHeight - 1);
                    if (series == 1 || s == series - 1) {
                        g.setColor(TEXT);
                        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                        g.drawString(Fmt.num(v), x + 4, by + barHeight - 3);
                    }
                }
            }
            g.setColor(TEXT);
            g.drawLine(x0, TOP - 4, x0, plotBottom);
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("no PNG writer available for " + png);
        }
    }

    /** 0.01, 0.1, 1, 10, 100, 1,000, ... */
    private static String decade(double d) {
        return d >= 1 ? String.format(java.util.Locale.ROOT, "%,.0f", d)
                : java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    private static int xOf(double v, double lo, double hi, int x0, int x1) {
        double f = (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
        return x0 + (int) Math.round(Math.max(0, Math.min(1, f)) * (x1 - x0));
    }

    private static String fit(String s, FontMetrics fm, int width) {
        if (fm.stringWidth(s) <= width) {
            return s;
        }
        String t = s;
        while (t.length() > 1 && fm.stringWidth(t + "…") > width) {
            t = t.substring(0, t.length() - 1);
        }
        return t + "…";
    }
}
