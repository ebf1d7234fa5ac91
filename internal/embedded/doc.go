// Package embedded starts the engines of the embedded default in-process:
// a Kafka-protocol broker (kfake) and the ClickHouse engine behind its HTTP
// interface, each on a loopback port, each keeping its data under the data
// directory. Everything else talks to them over the network, as to real
// clusters.
package embedded
