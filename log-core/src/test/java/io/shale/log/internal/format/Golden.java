package io.shale.log.internal.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files: checked-in bytes of each stored format. A test compares what the encoder writes
 * now with the file and fails on any difference (a format change must bump the version and keep a
 * decoder for the old one). Run with {@code -Dshale.golden.write=true} once to (re)write them.
 */
public final class Golden {
    private Golden() {
    }

    public static void check(String name, byte[] actual) throws IOException {
        if (Boolean.getBoolean("shale.golden.write")) {
            Path p = Path.of("src/test/resources/golden", name);
            Files.createDirectories(p.getParent());
            Files.write(p, actual);
            return;
        }
        byte[] expected;
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden file %s (write it with -Dshale.golden.write=true)", name).isNotNull();
            expected = in.readAllBytes();
        }
        assertThat(actual).as("bytes of %s", name).isEqualTo(expected);
    }

    public static byte[] read(String name) throws IOException {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            return in.readAllBytes();
        }
    }
}
