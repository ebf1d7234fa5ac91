// Command trailwatch watches CRM audit trails: one binary with a subcommand
// per pipeline role (ingest, detect, sink, respond) and `run`, which starts
// them all on the embedded Kafka and ClickHouse engines.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "trailwatch:", err)
		os.Exit(1)
	}
}
