/**
 * What the machine allows, measured in the same run as everything else: fdatasync of a group of
 * bytes on a growing or preallocated file (the floor under any durable append), and memory copy /
 * CRC-32C of 1 MiB chunks (the ceiling over any reader that checks what it reads).
 */
package io.shale.benchmarks.limits;
