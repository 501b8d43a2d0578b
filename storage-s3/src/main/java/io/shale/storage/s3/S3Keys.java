package io.shale.storage.s3;

/** The SPI's key rules (see {@link io.shale.log.spi.ObjectStore}), checked before any request. */
final class S3Keys {
    static final int MAX_KEY_BYTES = 512;

    private S3Keys() {
    }

    /** Throws {@link IllegalArgumentException} unless {@code key} is a valid SPI key. */
    static void validate(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("object key must not be empty");
        }
        int bytes = utf8Length(key);
        if (bytes > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("object key longer than " + MAX_KEY_BYTES + " UTF-8 bytes (" + bytes + "): '"
                    + printable(key.substring(0, 64)) + "...'");
        }
        int segStart = 0;
        for (int i = 0; i <= key.length(); i++) {
            if (i == key.length() || key.charAt(i) == '/') {
                int len = i - segStart;
                if (len == 0 || (len == 1 && key.charAt(segStart) == '.')
                        || (len == 2 && key.charAt(segStart) == '.' && key.charAt(segStart + 1) == '.')) {
                    throw new IllegalArgumentException("invalid object key '" + printable(key)
                            + "': empty, '.' or '..' segment");
                }
                segStart = i + 1;
                continue;
            }
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == '\\') {
                throw new IllegalArgumentException("invalid object key '" + printable(key)
                        + "': control character or backslash at index " + i);
            }
            if (Character.isSurrogate(c)) {
                boolean pair = Character.isHighSurrogate(c) && i + 1 < key.length() && Character.isLowSurrogate(key.charAt(i + 1));
                if (!pair) {
                    throw new IllegalArgumentException("invalid object key: unpaired surrogate at index " + i);
                }
                i++;
            }
        }
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** The key with control characters escaped, for messages. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
