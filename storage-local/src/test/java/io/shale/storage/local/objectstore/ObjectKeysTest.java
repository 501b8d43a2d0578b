package io.shale.storage.local.objectstore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ObjectKeysTest {
    private static final String X80 = "x".repeat(80);

    private static List<String> path(String key) {
        return ObjectKeys.pathOf(ObjectKeys.validateKey(key));
    }

    @Test
    void plainKeysShouldMapToDirectoriesMarkedWithEncodedSlash() {
        assertThat(path("logs/2024/01")).containsExactly("logs%2F", "2024%2F", "01");
        assertThat(path("a")).containsExactly("a");
        assertThat(path("a/b")).containsExactly("a%2F", "b");
    }

    @Test
    void percentAndNonAsciiBytesShouldBePercentEncoded() {
        assertThat(path("caf\u00e9")).containsExactly("caf%C3%A9");
        assertThat(path("100%")).containsExactly("100%25");
        assertThat(path("%2F")).containsExactly("%252F");
        assertThat(path("\uD83D\uDE00/x")).containsExactly("%F0%9F%98%80%2F", "x");
    }

    @Test
    void dotLabelsShouldNeverBecomeDotNames() {
        // A long segment can leave "." or ".." as the last chunk: "." and ".." must not be file names.
        assertThat(path(X80 + "..")).containsExactly(X80 + "%+", "%2E%2E");
        assertThat(path(X80 + "./y")).containsExactly(X80 + "%+", "%2E%2F", "y");
        assertThat(path("a..b/...")).containsExactly("a..b%2F", "...");
    }

    @Test
    void longSegmentsShouldBeCutIntoEightyByteContinuationDirectories() {
        assertThat(path("x".repeat(100))).containsExactly(X80 + "%+", "x".repeat(20));
        assertThat(path("x".repeat(160))).containsExactly(X80 + "%+", X80);
        assertThat(path(X80)).containsExactly(X80);
        // A non-last segment of exactly 80 bytes: its '/' becomes "%2F" inside the continuation directory.
        assertThat(path(X80 + "/y")).containsExactly(X80 + "%+", "%2F", "y");
        assertThat(path("x".repeat(79) + "/y")).containsExactly("x".repeat(79) + "%2F", "y");
        // Multi-byte characters may be split between chunks; the bytes are what count.
        assertThat(path("\u00e9".repeat(41))).containsExactly("%C3%A9".repeat(40) + "%+", "%C3%A9");
    }

    @Test
    void everyValidKeyShouldMapToShortAsciiNamesThatDecodeBackToTheKey() {
        SplittableRandom random = new SplittableRandom(5);
        String[] alphabet = {"a", "b", "/", ".", "-", "0", "%", "\u00e9", "\uD83D\uDE00", "~", " ", "x".repeat(37)};
        int checked = 0;
        while (checked < 5_000) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + random.nextInt(30);
            for (int i = 0; i < parts; i++) {
                sb.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String key = sb.toString();
            byte[] utf8 = key.getBytes(UTF_8);
            if (ObjectKeys.problemWith(utf8) != null) {
                continue;
            }
            checked++;
            List<String> names = ObjectKeys.pathOf(utf8);
            byte[] rebuilt = new byte[0];
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                assertThat(name).as("name in %s", key).matches("[\\x20-\\x7E]{1,243}").isNotIn(".", "..");
                ObjectKeys.Entry entry = ObjectKeys.decodeName(name);
                assertThat(entry).as("decoding %s of %s", name, key).isNotNull();
                assertThat(entry.kind() == ObjectKeys.Kind.OBJECT).as("only the last name is an object file")
                        .isEqualTo(i == names.size() - 1);
                rebuilt = entry.fragment(rebuilt);
            }
            assertThat(new String(rebuilt, UTF_8)).isEqualTo(key);
        }
    }

    @Test
    void decodingShouldRejectNamesTheStoreNeverWrites() {
        for (String name : List.of("%41", "%2f", "a%", "a%4", "%zz", "%tmp-123", "%shale-objectstore",
                "x".repeat(81), "x".repeat(80) + "%2F", "abc%+", "caf\u00e9", "a%2Fb")) {
            assertThat(ObjectKeys.decodeName(name)).as(name).isNull();
        }
        assertThat(ObjectKeys.decodeName("%2F").kind()).isEqualTo(ObjectKeys.Kind.DIRECTORY);
        assertThat(ObjectKeys.decodeName("%25").label()).containsExactly('%');
    }

    @Test
    void siblingsShouldSortInKeyOrderAroundTheDirectorySlash() {
        // object "a" < "a!" < dir "a/" < "a0"; object X80 < continuation X80 (longer keys) < "y"
        List<String> names = new ArrayList<>(List.of("a0", "a%2F", "a!", "a", "y", X80 + "%+", X80));
        names.sort((p, q) -> ObjectKeys.compare(ObjectKeys.decodeName(p).sortKey(), ObjectKeys.decodeName(q).sortKey()));
        assertThat(names).containsExactly("a", "a!", "a%2F", "a0", X80, X80 + "%+", "y");
    }

    @Test
    void validationShouldFollowTheSpiRules() {
        assertThat(ObjectKeys.validateKey("x".repeat(512))).hasSize(512);
        for (String bad : List.of("", "/", "a/", "/a", "a//b", ".", "..", "a/./b", "a/../b", "a\\b", "a\u0000", "a\u007f",
                "x".repeat(513), "\uD800")) {
            assertThatThrownBy(() -> ObjectKeys.validateKey(bad)).as(Arrays.toString(bad.toCharArray()))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ObjectKeys.validateKey(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void tokensShouldBeLimitedToSixtyFourSafeCharacters() {
        ObjectKeys.validateToken("A-z_0".repeat(12) + "abcd", true);
        ObjectKeys.validateToken(null, false);
        assertThatThrownBy(() -> ObjectKeys.validateToken(null, true)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ObjectKeys.validateToken("x".repeat(65), false)).isInstanceOf(IllegalArgumentException.class);
        for (String bad : List.of("a b", "a/b", "\u00e9", "a.b", "a\n")) {
            assertThatThrownBy(() -> ObjectKeys.validateToken(bad, false)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
