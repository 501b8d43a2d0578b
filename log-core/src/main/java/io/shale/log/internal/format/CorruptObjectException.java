package io.shale.log.internal.format;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

/** Stored bytes (object, manifest, WAL) failed verification. Always of kind {@code CORRUPT_STORAGE}. */
public final class CorruptObjectException extends ShaleException {
    private static final long serialVersionUID = 1L;

    public CorruptObjectException(String message) {
        super(ErrorKind.CORRUPT_STORAGE, message);
    }

    public CorruptObjectException(String message, Throwable cause) {
        super(ErrorKind.CORRUPT_STORAGE, message, cause);
    }
}
