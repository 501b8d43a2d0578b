/**
 * The local-directory object store: {@link io.shale.storage.local.objectstore.LocalDirectoryObjectStore},
 * the embedded default "bucket". Everything else in this package is its implementation: the key to
 * path codec ({@code ObjectKeys}), the ordered tree walk ({@code OrderedLister}), the per-object
 * metadata record ({@code ObjectMetadata}) and the directory's layout marker ({@code StoreLayout}).
 */
package io.shale.storage.local.objectstore;
