package io.shale.storage.local.objectstore;

import java.io.IOException;

/** An object's stored metadata is malformed (bad checksum, impossible field). Mapped to Reason.CORRUPT. */
final class CorruptObjectException extends IOException {
    private static final long serialVersionUID = 1L;

    CorruptObjectException(String message) {
        super(message);
    }
}
