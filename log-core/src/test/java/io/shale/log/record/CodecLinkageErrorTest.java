package io.shale.log.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.record.GrowableBytes.LimitExceededException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;

import com.github.luben.zstd.Zstd;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A codec whose library fails to link at use time (a method, class or native symbol missing:
 * the library on the classpath is not the version Shale was built against) must surface as
 * {@code ShaleException(INVALID_ARGUMENT)} naming the codec, the library and what was missing,
 * never as the {@link LinkageError} itself: callers such as {@code LogStore.appendBatch} only
 * turn ShaleExceptions into failed futures. Not CORRUPT_RECORD: the bytes are fine.
 */
class CodecLinkageErrorTest {

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(CompressionType.ZSTD, (Supplier<LinkageError>) () -> new NoSuchMethodError(
                        "'boolean com.github.luben.zstd.ZstdDecompressCtx.decompressByteBufferStream("
                                + "java.nio.ByteBuffer, java.nio.ByteBuffer)'")),
                Arguments.of(CompressionType.ZSTD, (Supplier<LinkageError>) () -> new UnsatisfiedLinkError(
                        "'long com.github.luben.zstd.Zstd.compressBound(long)'")),
                Arguments.of(CompressionType.SNAPPY, (Supplier<LinkageError>) () -> new NoClassDefFoundError(
                        "org/xerial/snappy/SnappyNative")),
                Arguments.of(CompressionType.LZ4, (Supplier<LinkageError>) () -> new IncompatibleClassChangeError(
                        "net.jpountz.lz4.LZ4Factory")));
    }

    /** A codec of {@code type} whose library throws {@code error} on every call. */
    private static Codec failing(CompressionType type, Supplier<LinkageError> error) {
        return new Codec(type, "com.example:broken-" + type.kafkaName + " 0.0-test") {
            @Override
            void decompress(ByteBuffer src, int from, int to, GrowableBytes out)
                    throws IOException, LimitExceededException {
                throw error.get();
            }

            @Override
            long maxCompressedLength(int rawLength) {
                return rawLength + 1024L;
            }

            @Override
            void compress(byte[] src, int length, GrowableBytes out) throws IOException {
                throw error.get();
            }
        };
    }

    @ParameterizedTest
    @MethodSource("failures")
    void aLinkageErrorWhileDecompressingShouldBeAnInvalidArgumentNamingCodecAndLibrary(CompressionType type,
                                                                                      Supplier<LinkageError> error) {
        ByteBuffer bytes = Samples.build(type, Samples.randomRecords(new Random(31), 5));
        RecordBatch batch = RecordBatch.wrap(bytes);
        LinkageError expected = error.get();
        assertThatThrownBy(() -> batch.iterator(failing(type, error)))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getCause()).isInstanceOf(expected.getClass());
                })
                .hasMessageContaining("base offset " + batch.baseOffset())
                .hasMessageContaining("the " + type.kafkaName + " codec failed inside com.example:broken-"
                        + type.kafkaName + " 0.0-test")
                .hasMessageContaining(expected.toString());
        // the view itself is untouched: header and CRC still read
        assertThat(batch.isValid()).isTrue();
    }

    @ParameterizedTest
    @MethodSource("failures")
    void aLinkageErrorWhileCompressingShouldBeAnInvalidArgumentNamingCodecAndLibrary(CompressionType type,
                                                                                    Supplier<LinkageError> error) {
        RecordBatchBuilder b = new RecordBatchBuilder().codec(failing(type, error)).append(SimpleRecord.of("k", "v"));
        LinkageError expected = error.get();
        assertThatThrownBy(b::build)
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getCause()).isInstanceOf(expected.getClass());
                })
                .hasMessageContaining("the " + type.kafkaName + " codec failed inside com.example:broken-"
                        + type.kafkaName + " 0.0-test")
                .hasMessageContaining(expected.toString());
    }

    @Test
    void theRealCodecsShouldNameTheirLibraryAndItsVersion() {
        String pinned = System.getProperty(ZstdJniVersionsTest.PINNED_PROPERTY);
        assertThat(pinned).as("system property %s (log-core/pom.xml)", ZstdJniVersionsTest.PINNED_PROPERTY)
                .isNotBlank();
        assertThat(Codecs.get(CompressionType.ZSTD).library).isEqualTo("com.github.luben:zstd-jni " + pinned);
        assertThat(Codecs.get(CompressionType.SNAPPY).library)
                .matches("org\\.xerial\\.snappy:snappy-java \\d+(\\.\\d+)+");
        // lz4-java's manifest has no Implementation-Version: the jar's file name gives it
        assertThat(Codecs.get(CompressionType.LZ4).library).matches("at\\.yawk\\.lz4:lz4-java \\d+(\\.\\d+)+");
    }

    @Test
    void libraryVersionShouldFallBackToTheJarNameThenToUnknown() {
        assertThat(Codecs.libraryVersion(Zstd.class, "zstd-jni"))
                .isEqualTo(System.getProperty(ZstdJniVersionsTest.PINNED_PROPERTY));
        assertThat(Codecs.libraryVersion(LZ4Factory.class, "lz4-java")).matches("\\d+(\\.\\d+)+");
        // a class from a directory, not a jar
        assertThat(Codecs.libraryVersion(CodecLinkageErrorTest.class, "log-core")).isEqualTo("(version unknown)");
        // a JDK class: no code source
        assertThat(Codecs.libraryVersion(List.class, "java.base")).isNotNull();
    }
}
