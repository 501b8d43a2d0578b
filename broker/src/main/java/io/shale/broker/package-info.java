/**
 * A Kafka-protocol broker on a Shale {@link io.shale.log.LogStore}: {@link io.shale.broker.ShaleBroker}
 * to run one in-process, {@link io.shale.broker.BrokerMain} as a program. Everything else in this
 * package is internal.
 */
package io.shale.broker;
