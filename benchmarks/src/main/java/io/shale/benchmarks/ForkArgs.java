package io.shale.benchmarks;

/**
 * JVM arguments for the benchmark forks, as constants so that {@code @Fork(jvmArgsAppend = ...)}
 * can name them. A fixed heap keeps heap resizing out of the measurements (this kind of VM pays
 * ~3 ms per 2 MiB for memory it has to touch again); AlwaysPreTouch is left out because it costs
 * ~3 s per GiB at every fork, which the quick mode cannot afford. Command-line
 * {@code -jvmArgsAppend} would replace these, so scripts pass their own flags with
 * {@code -jvmArgsPrepend}.
 */
public final class ForkArgs {
    public static final String HEAP_MIN = "-Xms1g";
    public static final String HEAP_MAX = "-Xmx1g";
    /** Shale's log cache (256 MiB by default) and block cache live beside the benchmark's own data. */
    public static final String SHALE_HEAP_MIN = "-Xms2g";
    public static final String SHALE_HEAP_MAX = "-Xmx2g";

    /*
     * Chronicle Queue on Java 17: the --add-exports / --add-opens list from Chronicle's "Java 17
     * support" page, and analytics off (Chronicle otherwise tries to reach the internet).
     */
    public static final String CQ_EXPORT_REF = "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED";
    public static final String CQ_EXPORT_NIO = "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED";
    public static final String CQ_EXPORT_MISC = "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED";
    public static final String CQ_EXPORT_JAVAC_FILE = "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED";
    public static final String CQ_OPEN_JAVAC = "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED";
    public static final String CQ_OPEN_LANG = "--add-opens=java.base/java.lang=ALL-UNNAMED";
    public static final String CQ_OPEN_REFLECT = "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED";
    public static final String CQ_OPEN_IO = "--add-opens=java.base/java.io=ALL-UNNAMED";
    public static final String CQ_OPEN_UTIL = "--add-opens=java.base/java.util=ALL-UNNAMED";
    public static final String CQ_NO_ANALYTICS = "-Dchronicle.analytics.disable=true";

    private ForkArgs() {
    }
}
