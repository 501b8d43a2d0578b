/** An {@link io.shale.log.spi.ObjectStore} over Amazon S3 and S3-compatible stores. */
package io.shale.storage.s3;
