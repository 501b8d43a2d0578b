package io.shale.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Scratch directories for benchmark data. They are created under {@code $SHALE_BENCH_DIR} (set by
 * run.sh to a fresh directory it removes at exit) or else under {@code java.io.tmpdir}, and every
 * benchmark deletes its own in {@code @TearDown}. Which disk they are on is the disk measured.
 */
public final class BenchDirs {
    /** Environment variable naming the parent of all scratch directories. */
    public static final String ENV = "SHALE_BENCH_DIR";

    private BenchDirs() {
    }

    /** The parent directory of all scratch directories. */
    public static Path root() {
        String env = System.getenv(ENV);
        return Paths.get(env != null && !env.isBlank() ? env : System.getProperty("java.io.tmpdir"));
    }

    /** A new empty directory named after the benchmark. */
    public static Path create(String prefix) {
        try {
            Path root = root();
            Files.createDirectories(root);
            return Files.createTempDirectory(root, prefix + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a scratch directory under " + root(), e);
        }
    }

    /** Deletes a directory tree; a missing tree is fine; null does nothing. */
    public static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE; // removed meanwhile (e.g. by the peer's own cleaner)
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete scratch directory " + dir, e);
        }
    }
}
