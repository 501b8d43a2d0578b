package io.shale.storage.local.objectstore;

import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Object keys: validation (the SPI's rules) and the mapping of a key to file names under the root.
 *
 * <pre>
 * Mapping, for a key split at '/' into segments:
 *   every segment is cut into chunks of CHUNK_BYTES (80) UTF-8 bytes; each chunk is a "label"
 *   label  -> encoded name: bytes 0x20..0x7E except '%' as themselves, '%' and every byte >= 0x80
 *             as %XX (uppercase hex); the labels "." and ".." as %2E / %2E%2E
 *
 *   last chunk of the last segment     -> regular file   enc(label)            (1..80 bytes)
 *   last chunk of any other segment    -> directory      enc(label) + "%2F"    (1..79 bytes)
 *   a chunk followed by more bytes of  -> directory      enc(label) + "%+"     (exactly 80 bytes)
 *     the same segment, or an 80-byte
 *     last chunk of a non-last segment
 *   in the latter case the '/' itself  -> directory      "%2F" inside the "%+" directory
 *
 *   "logs/2024/01"     -> logs%2F/2024%2F/01
 *   "a" and "a/b"      -> a  and  a%2F/b          (a key may be a prefix of another key)
 *   "caf\u00e9"             -> caf%C3%A9
 *   100 x "x"          -> xxx...x(80)%+/xxx...x(20)
 *   names that start with '%' and a lowercase letter are the store's own (temp files, marker)
 * </pre>
 *
 * <p>Why this shape: a file cannot also be a directory, so directories carry the "%2F" marker
 * (the percent-encoding of the '/' they stand for) and objects keep their plain names. Names stay
 * ASCII, so they mean the same whatever the JVM's file-name encoding (a JVM under LANG=C cannot
 * create UTF-8 names), and the longest name is 3 x 80 + 3 = 243 bytes, under the usual 255-byte
 * limit, although a key segment may be 512 bytes. The encoding is injective (decoding checks that
 * a name is canonical), and sorting a directory's entries by {@link Entry#sortKey()} and walking
 * depth-first yields keys in exact UTF-8 byte order: the keys under a directory entry form one
 * contiguous range among its siblings (see the class comment of {@link OrderedLister}).
 */
final class ObjectKeys {
    static final int MAX_KEY_BYTES = 512;
    static final int MAX_TOKEN_CHARS = 64;
    /** Chunk size in UTF-8 bytes of key segments; part of the on-disk layout (recorded in the marker). */
    static final int CHUNK_BYTES = 80;
    static final String DIRECTORY_SUFFIX = "%2F";
    static final String CONTINUATION_SUFFIX = "%+";
    /** Prefix of temp files; '%' followed by a lowercase letter never comes out of the encoding. */
    static final String TEMP_PREFIX = "%tmp-";

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** What a directory entry stands for. */
    enum Kind { OBJECT, DIRECTORY, CONTINUATION }

    /**
     * A decoded directory entry.
     *
     * @param name the file name
     * @param label the key bytes it contributes (without the '/' of a directory)
     * @param sortKey the order among siblings: object label, directory label + '/', continuation label + 0x00
     */
    record Entry(String name, Kind kind, byte[] label, byte[] sortKey) {
        /** The key bytes of this entry's range: parent + label (+ '/' for a directory). */
        byte[] fragment(byte[] parent) {
            int extra = kind == Kind.DIRECTORY ? 1 : 0;
            byte[] out = Arrays.copyOf(parent, parent.length + label.length + extra);
            System.arraycopy(label, 0, out, parent.length, label.length);
            if (extra == 1) {
                out[out.length - 1] = '/';
            }
            return out;
        }
    }

    private ObjectKeys() {
    }

    /**
     * Checks a key against the SPI's rules and returns its UTF-8 bytes.
     *
     * @throws IllegalArgumentException if the key is not valid (null: {@link NullPointerException})
     */
    static byte[] validateKey(String key) {
        Objects.requireNonNull(key, "key");
        byte[] utf8 = strictUtf8(key);
        if (utf8 == null) {
            throw new IllegalArgumentException("invalid object key: not valid UTF-16 / encodable as UTF-8");
        }
        String problem = problemWith(utf8);
        if (problem != null) {
            throw new IllegalArgumentException("invalid object key '" + printable(key) + "': " + problem);
        }
        return utf8;
    }

    /** Why these UTF-8 bytes are not a valid key, or null if they are. */
    static String problemWith(byte[] utf8) {
        if (utf8.length == 0 || utf8.length > MAX_KEY_BYTES) {
            return utf8.length + " bytes, must be 1 to " + MAX_KEY_BYTES;
        }
        int segmentStart = 0;
        for (int i = 0; i <= utf8.length; i++) {
            if (i == utf8.length || utf8[i] == '/') {
                int len = i - segmentStart;
                if (len == 0) {
                    return "empty segment";
                }
                if ((len == 1 && utf8[segmentStart] == '.')
                        || (len == 2 && utf8[segmentStart] == '.' && utf8[segmentStart + 1] == '.')) {
                    return "'.' or '..' segment";
                }
                segmentStart = i + 1;
                continue;
            }
            int b = utf8[i] & 0xFF;
            if (b < 0x20 || b == 0x7F) {
                return "control character";
            }
            if (b == '\\') {
                return "backslash";
            }
        }
        return null;
    }

    /** Checks a write token: null (if allowed) or 0..64 ASCII letters, digits, '-' or '_'. */
    static void validateToken(String token, boolean required) {
        if (token == null) {
            if (required) {
                throw new NullPointerException("token is required for putIfAbsent");
            }
            return;
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new IllegalArgumentException("token longer than " + MAX_TOKEN_CHARS + " characters");
        }
        for (int i = 0; i < token.length(); i++) {
            if (!isTokenChar(token.charAt(i))) {
                throw new IllegalArgumentException("token may hold only ASCII letters, digits, '-' and '_'");
            }
        }
    }

    static boolean isTokenChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    /** UTF-8 bytes of a string, or null if it holds unpaired surrogates. */
    static byte[] strictUtf8(String s) {
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            java.nio.ByteBuffer out = encoder.encode(CharBuffer.wrap(s));
            byte[] bytes = new byte[out.remaining()];
            out.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** A string from UTF-8 bytes, or null if they are not well-formed UTF-8. */
    static String strictString(byte[] utf8) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(java.nio.ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The path names for a valid key (validated UTF-8 bytes): directories first, the object's file last. */
    static List<String> pathOf(byte[] key) {
        List<String> names = new ArrayList<>(8);
        int segmentStart = 0;
        for (int i = 0; i <= key.length; i++) {
            if (i == key.length || key[i] == '/') {
                appendSegment(names, key, segmentStart, i, i == key.length);
                segmentStart = i + 1;
            }
        }
        return names;
    }

    /**
     * The directory names for a run of complete segments, each followed by '/'
     * ({@code "a/b/"}; empty for the root), or null if one of them cannot occur in a valid key.
     */
    static List<String> directoriesOf(byte[] segmentsWithSlash) {
        List<String> names = new ArrayList<>(8);
        int segmentStart = 0;
        for (int i = 0; i < segmentsWithSlash.length; i++) {
            if (segmentsWithSlash[i] == '/') {
                int len = i - segmentStart;
                if (len == 0 || (len == 1 && segmentsWithSlash[segmentStart] == '.')
                        || (len == 2 && segmentsWithSlash[segmentStart] == '.' && segmentsWithSlash[segmentStart + 1] == '.')) {
                    return null;
                }
                appendSegment(names, segmentsWithSlash, segmentStart, i, false);
                segmentStart = i + 1;
            }
        }
        return names;
    }

    private static void appendSegment(List<String> names, byte[] key, int from, int to, boolean last) {
        int p = from;
        while (to - p > CHUNK_BYTES) {
            names.add(encodeLabel(key, p, p + CHUNK_BYTES) + CONTINUATION_SUFFIX);
            p += CHUNK_BYTES;
        }
        if (last) {
            names.add(encodeLabel(key, p, to));
        } else if (to - p == CHUNK_BYTES) {
            names.add(encodeLabel(key, p, to) + CONTINUATION_SUFFIX);
            names.add(DIRECTORY_SUFFIX);
        } else {
            names.add(encodeLabel(key, p, to) + DIRECTORY_SUFFIX);
        }
    }

    /** Encodes key bytes {@code [from, to)} as a file-name body (see the class comment). */
    static String encodeLabel(byte[] key, int from, int to) {
        int len = to - from;
        if ((len == 1 && key[from] == '.') || (len == 2 && key[from] == '.' && key[from + 1] == '.')) {
            return len == 1 ? "%2E" : "%2E%2E";
        }
        StringBuilder sb = new StringBuilder(len + 8);
        for (int i = from; i < to; i++) {
            int b = key[i] & 0xFF;
            if (b == '%' || b >= 0x80) {
                sb.append('%').append(HEX[b >>> 4]).append(HEX[b & 0xF]);
            } else {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    /** Whether a name is one of the store's own files (temp files, the layout marker). */
    static boolean isInternalName(String name) {
        return name.length() >= 2 && name.charAt(0) == '%' && name.charAt(1) >= 'a' && name.charAt(1) <= 'z';
    }

    /**
     * Decodes a directory entry's name, or returns null if the store would never have made that
     * name (its own internal files, or something put there by someone else).
     */
    static Entry decodeName(String name) {
        if (name.isEmpty() || isInternalName(name)) {
            return null;
        }
        Kind kind;
        String body;
        if (name.endsWith(DIRECTORY_SUFFIX)) {
            kind = Kind.DIRECTORY;
            body = name.substring(0, name.length() - DIRECTORY_SUFFIX.length());
        } else if (name.endsWith(CONTINUATION_SUFFIX)) {
            kind = Kind.CONTINUATION;
            body = name.substring(0, name.length() - CONTINUATION_SUFFIX.length());
        } else {
            kind = Kind.OBJECT;
            body = name;
        }
        byte[] label = decodeBody(body);
        if (label == null || !encodeLabel(label, 0, label.length).equals(body)) {
            return null;
        }
        boolean lengthOk = switch (kind) {
            case OBJECT -> label.length >= 1 && label.length <= CHUNK_BYTES;
            case DIRECTORY -> label.length < CHUNK_BYTES;     // empty only inside a continuation directory
            case CONTINUATION -> label.length == CHUNK_BYTES;
        };
        if (!lengthOk) {
            return null;
        }
        byte[] sortKey = switch (kind) {
            case OBJECT -> label;
            case DIRECTORY -> append(label, (byte) '/');
            case CONTINUATION -> append(label, (byte) 0);
        };
        return new Entry(name, kind, label, sortKey);
    }

    private static byte[] decodeBody(String body) {
        byte[] out = new byte[body.length()];
        int n = 0;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '%') {
                if (i + 2 >= body.length()) {
                    return null;
                }
                int hi = hexValue(body.charAt(i + 1));
                int lo = hexValue(body.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c >= 0x80) {
                return null;
            } else {
                out[n++] = (byte) c;
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static byte[] append(byte[] a, byte b) {
        byte[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }

    static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }

    static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /** A key for messages: control characters escaped, long keys cut. */
    static String printable(String key) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.length() && sb.length() < 600; i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7F || Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() >= 600) {
            sb.append("...(").append(key.length()).append(" chars)");
        }
        return sb.toString();
    }
}
