package io.shale.log.record;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the codec for each {@link CompressionType}.
 *
 * <p>Optional codecs: the classes that link against snappy-java and zstd-jni
 * ({@link SnappyCodec}, {@link ZstdCodec}) are never named in code that always runs; they are
 * loaded by name, once, the first time the codec is asked for. If the library (or its native
 * part) is missing, loading fails with a {@link LinkageError} or an exception, which is caught
 * and remembered: the codec is then unavailable and every use fails with
 * {@code ShaleException(INVALID_ARGUMENT)} naming the artifact to add. INVALID_ARGUMENT rather
 * than CORRUPT_RECORD because the bytes are fine: treating them as corrupt could make a caller
 * discard or truncate good data, and the fix is a classpath change, not new data.
 *
 * <p>Incompatible versions: a library that is present but lacks what its codec calls is found
 * the same way, once, where the codec checks for it: {@link ZstdCodec}'s constructor runs every
 * zstd-jni call it makes and throws {@link IncompatibleLibraryException} naming the version found
 * and the one needed; the codec is then unavailable as above, with that message (logged as a
 * warning). The other codecs' constructors only load their library. Should a {@link LinkageError}
 * still escape a codec later, {@link RecordBatch} and {@link RecordBatchBuilder} turn it into the
 * same INVALID_ARGUMENT ({@link #linkageFailure}) naming the library and its version, never
 * letting the Error through.
 *
 * <p>Decompression limit: {@link #MAX_DECOMPRESSED_BYTES} bounds the decompressed records
 * section of one batch. Kafka's own default {@code max.message.bytes} is about 1 MiB compressed;
 * 64 MiB leaves room for a ratio of 60 on such a batch while keeping a decompression bomb from
 * taking more than that much heap. Output buffers grow with the bytes actually produced, so
 * ordinary batches allocate roughly their decompressed size.
 *
 * <p>Thread-safe: the holders are initialised once by the JVM's class-initialisation lock.
 */
final class Codecs {
    private static final Logger LOG = LoggerFactory.getLogger(Codecs.class);

    /** Upper bound on the decompressed records section of one batch. */
    static final int MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

    private Codecs() {
    }

    private static final class Gzip {
        static final Loaded LOADED = load(CompressionType.GZIP, "io.shale.log.record.GzipCodec", "the JDK (java.util.zip)");
    }

    private static final class Lz4 {
        static final Loaded LOADED = load(CompressionType.LZ4, "io.shale.log.record.Lz4Codec", "at.yawk.lz4:lz4-java");
    }

    private static final class Snappy {
        static final Loaded LOADED = load(CompressionType.SNAPPY, "io.shale.log.record.SnappyCodec", "org.xerial.snappy:snappy-java");
    }

    private static final class Zstd {
        static final Loaded LOADED = load(CompressionType.ZSTD, "io.shale.log.record.ZstdCodec", "com.github.luben:zstd-jni");
    }

    /**
     * Thrown by a codec's constructor when its library is on the classpath but is a version the
     * codec cannot use; the message names both versions.
     */
    static final class IncompatibleLibraryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        IncompatibleLibraryException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A codec, or why it could not be loaded. */
    private record Loaded(Codec codec, String unavailableReason) {
    }

    private static Loaded loaded(CompressionType type) {
        switch (type) {
            case GZIP:
                return Gzip.LOADED;
            case LZ4:
                return Lz4.LOADED;
            case SNAPPY:
                return Snappy.LOADED;
            case ZSTD:
                return Zstd.LOADED;
            default:
                throw new IllegalArgumentException("no codec for " + type);
        }
    }

    static boolean isAvailable(CompressionType type) {
        return type == CompressionType.NONE || loaded(type).codec() != null;
    }

    /**
     * The codec for a compressed type.
     *
     * @throws ShaleException of kind INVALID_ARGUMENT if its library is not on the classpath
     */
    static Codec get(CompressionType type) {
        Loaded l = loaded(type);
        if (l.codec() == null) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, l.unavailableReason());
        }
        return l.codec();
    }

    private static Loaded load(CompressionType type, String className, String artifact) {
        try {
            Class<?> c = Class.forName(className, true, Codecs.class.getClassLoader());
            return new Loaded((Codec) c.getDeclaredConstructor().newInstance(), null);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException && e.getCause() != null
                    ? e.getCause() : e;
            if (cause instanceof IncompatibleLibraryException) {
                // present but unusable: worth a warning, the user meant to have this codec
                String reason = type.kafkaName + " compression is not available: " + cause.getMessage();
                LOG.warn("{}", reason, cause.getCause());
                return new Loaded(null, reason);
            }
            String reason = type.kafkaName + " compression is not available: it needs " + artifact
                    + " on the classpath (" + cause + ")";
            LOG.debug("{}", reason, cause);
            return new Loaded(null, reason);
        }
    }

    /**
     * What to say when {@code codec} failed with a {@link LinkageError}: its library lacks a class,
     * method or native symbol the codec was compiled against.
     */
    static String linkageFailure(Codec codec, LinkageError e) {
        return "the " + codec.type.kafkaName + " codec failed inside " + codec.library
                + ", which is missing part of what Shale calls (" + e + "); put a version Shale supports"
                + " on the classpath";
    }

    /**
     * The version of the library that {@code anchor} comes from: its jar manifest's
     * Implementation-Version, else the version in a jar named {@code artifactId-VERSION.jar}, else
     * "(version unknown)". Never fails.
     */
    static String libraryVersion(Class<?> anchor, String artifactId) {
        try {
            Package p = anchor.getPackage();
            if (p != null && p.getImplementationVersion() != null) {
                return p.getImplementationVersion();
            }
            java.security.CodeSource source = anchor.getProtectionDomain().getCodeSource();
            if (source != null && source.getLocation() != null) {
                String path = source.getLocation().getPath();
                String name = path.substring(path.lastIndexOf('/') + 1);
                String prefix = artifactId + "-";
                if (name.startsWith(prefix) && name.endsWith(".jar") && name.length() > prefix.length() + 4) {
                    return name.substring(prefix.length(), name.length() - 4);
                }
            }
        } catch (RuntimeException e) {
            // a security manager or an unusual class loader: the version is only for messages
        }
        return "(version unknown)";
    }
}
