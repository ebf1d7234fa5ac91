// Command gen writes generated CRM events as NDJSON, for replay figures:
//
//	go run ./detect/internal/traffic/gen -n 1000000 > /tmp/events.ndjson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/detect/internal/traffic"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func main() {
	n := flag.Int("n", 1_000_000, "events to write")
	accounts := flag.Int("accounts", 100_000, "accounts")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()
	g := traffic.New(traffic.Config{Seed: *seed, Accounts: *accounts})
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var e event.Event
	for range *n {
		g.Next(&e)
		b, err := detect.EncodeEvent(&e)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
