package io.shale.cli;

import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStoreException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code shale} command-line tool: inspect, dump and verify a store, estimate what it costs on
 * object storage, and produce or consume records for quick trials. Works on a local directory (the
 * embedded default, {@code LocalStorage}) and on S3 or an S3-compatible store.
 *
 * <p>The inspection commands ({@code inspect}, {@code dump}, {@code verify}, {@code cost}) read
 * the store without claiming it: no WAL, no writer epoch, no writes, so a live writer is never
 * fenced or disturbed.
 */
@Command(name = "shale",
        mixinStandardHelpOptions = true,
        versionProvider = ShaleCli.Version.class,
        description = "Inspect, dump, verify and cost a Shale store on a local directory or S3, and produce or"
                + " consume records for quick trials.",
        subcommands = {
                InspectCommand.class,
                DumpCommand.class,
                VerifyCommand.class,
                CostCommand.class,
                ProduceCommand.class,
                ConsumeCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nStores:%n",
        footer = {
                "  --dir DIR              a local store: the directory given to",
                "                         LocalStorage.builder (holding wal/ and objects/)",
                "  --bucket B --prefix P  a store on S3 or an S3-compatible store (with",
                "                         --endpoint, --region, --path-style, --allow-http)",
                "",
                "S3 credentials come from the AWS default chain only (environment, system properties, profile,"
                        + " container or instance role) and are never printed.",
                "",
                "inspect, dump, verify and cost open the store read-only: they never claim it, fence a running"
                        + " writer or write anything. They see what the writer has committed to objects (data still"
                        + " only in a writer's WAL appears after its next upload).",
                "",
                "Exit codes: 0 ok; 1 verify or dump found a problem (corrupt or missing data); 2 bad usage or input"
                        + " (unknown option, no store at the path, unknown topic); 3 the store could not be read or"
                        + " written (unreachable, access denied, in use); 4 internal error."})
public final class ShaleCli {
    /** Success. */
    public static final int EXIT_OK = 0;
    /** verify (or dump) found corrupt, missing or inconsistent data. */
    public static final int EXIT_PROBLEMS = 1;
    /** Bad usage or input: what was wrong is printed. */
    public static final int EXIT_USAGE = 2;
    /** The store could not be read or written. */
    public static final int EXIT_STORE = 3;
    /** A bug: printed with its stack trace. */
    public static final int EXIT_INTERNAL = 4;

    private ShaleCli() {
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (tests call {@code execute} on it with their own writers). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new ShaleCli());
        cl.setExecutionExceptionHandler(ShaleCli::handle);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof CliException ce) {
            err.println("error: " + ce.getMessage());
            err.flush();
            return ce.exitCode();
        }
        ShaleException se = ShaleException.unwrap(e);
        if (se != null) {
            err.println("error: " + se.getMessage() + " (" + se.kind() + ")");
            err.flush();
            return se.kind() == io.shale.log.ErrorKind.INVALID_ARGUMENT
                    || se.kind() == io.shale.log.ErrorKind.UNKNOWN_TOPIC_OR_PARTITION
                    || se.kind() == io.shale.log.ErrorKind.OFFSET_OUT_OF_RANGE ? EXIT_USAGE : EXIT_STORE;
        }
        ObjectStoreException ose = ObjectStoreException.find(e);
        if (ose != null) {
            err.println("error: " + ose.getMessage());
            err.flush();
            return EXIT_STORE;
        }
        if (e instanceof IllegalArgumentException) {
            // the libraries' own validation of options (S3 bucket names, regions, endpoints)
            err.println("error: " + e.getMessage());
            err.flush();
            return EXIT_USAGE;
        }
        err.println("internal error (please report it): " + e);
        e.printStackTrace(err);
        err.flush();
        return EXIT_INTERNAL;
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ShaleCli.class.getPackage().getImplementationVersion();
            return new String[] {"shale " + (v == null ? "(development build)" : v)};
        }
    }
}
