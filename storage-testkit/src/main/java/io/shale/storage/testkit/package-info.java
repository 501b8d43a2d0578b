/** Conformance suites for implementations of Shale's storage SPI. */
package io.shale.storage.testkit;
