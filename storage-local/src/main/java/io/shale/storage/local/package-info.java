/** The embedded default: a file write-ahead log and a local-directory object store. */
package io.shale.storage.local;
