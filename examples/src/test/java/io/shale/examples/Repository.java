package io.shale.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository's root is, for tests that read its documentation and build files. */
final class Repository {
    private Repository() {
    }

    /**
     * The directory above the working directory (surefire runs in the module's directory) that holds
     * README.md and the parent pom.xml listing the examples module.
     */
    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path pom = dir.resolve("pom.xml");
            if (Files.isRegularFile(dir.resolve("README.md")) && Files.isRegularFile(pom)) {
                try {
                    if (Files.readString(pom).contains("<module>examples</module>")) {
                        return dir;
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("no repository root (README.md and a pom.xml listing examples) above "
                + Path.of("").toAbsolutePath());
    }
}
