/** JMH benchmarks. */
package io.shale.benchmarks;
