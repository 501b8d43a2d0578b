package io.shale.cli;

/**
 * A user error the tool explains in one line (a bad path, an unknown topic, an option that makes
 * no sense): printed as {@code error: <message>} without a stack trace, exit code
 * {@link ShaleCli#EXIT_USAGE} unless given.
 */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CliException(String message) {
        this(message, ShaleCli.EXIT_USAGE);
    }

    CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
