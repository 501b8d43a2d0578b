/** Runnable examples. */
package io.shale.examples;
