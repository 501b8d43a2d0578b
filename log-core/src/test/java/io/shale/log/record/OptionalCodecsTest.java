package io.shale.log.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;

import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * log-core without its optional codec libraries: the record classes are loaded in a class loader
 * that sees only log-core's classes, slf4j-api and lz4-java (no snappy-java, no zstd-jni). Snappy
 * and zstd must then report themselves unavailable and fail with INVALID_ARGUMENT naming the
 * missing artifact, while everything else keeps working.
 */
class OptionalCodecsTest {

    private static URLClassLoader isolated;

    @BeforeAll
    static void createClassLoaderWithoutOptionalCodecs() throws Exception {
        URL[] urls = {
            RecordBatch.class.getProtectionDomain().getCodeSource().getLocation(),
            LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation(),
            LZ4Factory.class.getProtectionDomain().getCodeSource().getLocation(),
        };
        isolated = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
        assertThatThrownBy(() -> isolated.loadClass("org.xerial.snappy.Snappy")).isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> isolated.loadClass("com.github.luben.zstd.Zstd")).isInstanceOf(ClassNotFoundException.class);
    }

    @AfterAll
    static void closeClassLoader() throws Exception {
        isolated.close();
    }

    @Test
    void snappyAndZstdShouldBeUnavailableWithoutTheirLibraries() throws Exception {
        assertThat(isAvailable("SNAPPY")).isFalse();
        assertThat(isAvailable("ZSTD")).isFalse();
        assertThat(isAvailable("LZ4")).isTrue();
        assertThat(isAvailable("GZIP")).isTrue();
        assertThat(isAvailable("NONE")).isTrue();
    }

    @Test
    void allCodecsShouldBeAvailableOnTheTestClasspath() {
        for (CompressionType t : CompressionType.values()) {
            assertThat(t.isAvailable()).as(t.kafkaName).isTrue();
        }
    }

    @Test
    void readingABatchThatNeedsAMissingCodecShouldFailAsInvalidArgumentNamingTheArtifact() throws Exception {
        assertMissingCodecOnRead(CompressionType.SNAPPY, "org.xerial.snappy:snappy-java");
        assertMissingCodecOnRead(CompressionType.ZSTD, "com.github.luben:zstd-jni");
    }

    @Test
    void buildingWithAMissingCodecShouldFailAsInvalidArgumentNamingTheArtifact() throws Exception {
        Class<?> builderClass = isolated.loadClass(RecordBatchBuilder.class.getName());
        Class<?> typeClass = isolated.loadClass(CompressionType.class.getName());
        Object builder = builderClass.getConstructor().newInstance();
        Method compression = builderClass.getMethod("compression", typeClass);
        Throwable t = invokeFailing(compression, builder, enumConstant("SNAPPY"));
        assertThat(t.getClass().getName()).isEqualTo(ShaleException.class.getName());
        assertThat(kindOf(t)).isEqualTo(ErrorKind.INVALID_ARGUMENT.name());
        assertThat(t.getMessage()).contains("snappy", "org.xerial.snappy:snappy-java");
    }

    @Test
    void lz4ShouldStillRoundTripWithoutTheOptionalLibraries() throws Exception {
        ByteBuffer lz4 = Samples.build(CompressionType.LZ4, Samples.randomRecords(new java.util.Random(2), 10));
        Object batch = wrap(lz4);
        Iterator<?> it = (Iterator<?>) batch.getClass().getMethod("iterator").invoke(batch);
        int n = 0;
        while (it.hasNext()) {
            it.next();
            n++;
        }
        assertThat(n).isEqualTo(10);
    }

    private static void assertMissingCodecOnRead(CompressionType type, String artifact) throws Exception {
        // bytes made here with the codec present; read there without it
        ByteBuffer bytes = Samples.build(type, List.of(SimpleRecord.of("k", "v")));
        Object batch = wrap(bytes);
        assertThat(batch.getClass().getMethod("isValid").invoke(batch)).isEqualTo(true);
        Throwable t = invokeFailing(batch.getClass().getMethod("iterator"), batch);
        assertThat(t.getClass().getName()).isEqualTo(ShaleException.class.getName());
        assertThat(kindOf(t)).isEqualTo(ErrorKind.INVALID_ARGUMENT.name());
        assertThat(t.getMessage()).contains(type.kafkaName, artifact);
    }

    private static Object wrap(ByteBuffer bytes) throws Exception {
        return isolated.loadClass(RecordBatch.class.getName()).getMethod("wrap", ByteBuffer.class).invoke(null, bytes);
    }

    private static boolean isAvailable(String name) throws Exception {
        Object type = enumConstant(name);
        return (boolean) type.getClass().getMethod("isAvailable").invoke(type);
    }

    private static Object enumConstant(String name) throws Exception {
        Class<?> typeClass = isolated.loadClass(CompressionType.class.getName());
        return typeClass.getMethod("valueOf", String.class).invoke(null, name);
    }

    private static Throwable invokeFailing(Method m, Object target, Object... args) throws Exception {
        try {
            m.invoke(target, args);
        } catch (InvocationTargetException e) {
            return e.getCause();
        }
        throw new AssertionError(m + " did not fail");
    }

    private static String kindOf(Throwable shaleException) throws Exception {
        return shaleException.getClass().getMethod("kind").invoke(shaleException).toString();
    }
}
