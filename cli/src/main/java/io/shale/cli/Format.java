package io.shale.cli;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;

/** Output formatting shared by the commands. */
final class Format {
    private Format() {
    }

    /** 1536 -> "1.5 KiB". */
    static String bytes(double n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        while (Math.abs(n) >= 1024 && u < units.length - 1) {
            n /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f B", n) : String.format(Locale.ROOT, "%.1f %s", n, units[u]);
    }

    /** Epoch millis as ISO-8601 UTC, or "-" for none (negative). */
    static String time(long epochMs) {
        return epochMs < 0 ? "-" : Instant.ofEpochMilli(epochMs).toString();
    }

    /** 1234567 -> "1,234,567". */
    static String count(double n) {
        return n == Math.rint(n) && Math.abs(n) < 1e15 ? String.format(Locale.ROOT, "%,d", (long) n)
                : String.format(Locale.ROOT, "%,.2f", n);
    }

    static String money(double usd) {
        return usd < 0.005 && usd > 0 ? "<$0.01" : String.format(Locale.ROOT, "$%,.2f", usd);
    }

    /**
     * Bytes as text: UTF-8 when they are valid UTF-8, else {@code 0x} and hex. {@code null} for a
     * null buffer.
     */
    static String text(ByteBuffer b) {
        if (b == null) {
            return "null";
        }
        ByteBuffer d = b.duplicate();
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(d);
            return chars.toString();
        } catch (CharacterCodingException e) {
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            return "0x" + HexFormat.of().formatHex(bytes);
        }
    }

    /** {@link #text} with control characters escaped, for one-line output. */
    static String escaped(ByteBuffer b) {
        String s = text(b);
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (out == null) {
                    out = new StringBuilder(s.length() + 8).append(s, 0, i);
                }
                switch (c) {
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                }
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? s : out.toString();
    }
}
