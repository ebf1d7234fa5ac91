package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/ingest/generic"
	"github.com/trailwatch/trailwatch/ingest/normalize"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// errRejected makes the exit status non-zero when some records were rejected.
var errRejected = errors.New("some records were rejected")

func newNormalizeCmd() *cobra.Command {
	var format, in, tenant, collector, mapping string
	cmd := &cobra.Command{
		Use:   "normalize --format NAME --tenant T [--in FILE] [--mapping FILE]",
		Short: "Print the canonical events a vendor input becomes",
		Long: `normalize reads vendor records and prints the canonical events they become,
one JSON object per line (NDJSON), on standard output: the same code path the
collectors use, without Kafka, so a mapping can be checked by eye.

Input is NDJSON (one record per line) for the JSON formats and CSV with a
header row for the Event Log File formats (salesforce-elf-*). Records that
cannot be mapped are reported on standard error as "line N: reason" and
normalize goes on with the next one.

Exit status: 0 when every record was accepted, 1 when any record was rejected
or the input could not be read.

Formats: ` + strings.Join(normalize.Formats(), ", ") + `
The generic format needs --mapping, a YAML mapping file (docs/INGEST.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := normalize.Options{}
			if format == generic.Format {
				if mapping == "" {
					return normalize.ErrNeedsMapping
				}
				m, err := generic.Load(mapping)
				if err != nil {
					return err
				}
				opts.Mapping = m
			} else if mapping != "" {
				return fmt.Errorf("--mapping is only used with --format generic")
			}
			n, err := normalize.Lookup(format, opts)
			if err != nil {
				return err
			}
			src := io.Reader(cmd.InOrStdin())
			if in != "" && in != "-" {
				f, err := os.Open(in)
				if err != nil {
					return err
				}
				defer f.Close()
				src = f
			}
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			sink := &printSink{out: out, errOut: cmd.ErrOrStderr()}
			// An analyst checks a mapping, often on old exports: any age is
			// accepted, as on the backfill path (the collectors' live path
			// enforces the contract's maximum age).
			limits := event.DefaultOptions()
			limits.MaxAge = 0
			res, err := normalize.Run(cmd.Context(), src, n, record.Meta{Tenant: tenant, Collector: collector}, limits, sink)
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
			if res.Rejected > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d accepted, %d rejected\n", res.Accepted, res.Rejected)
				return errRejected
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "input format (see the list above)")
	f.StringVar(&in, "in", "", "input file (default: standard input)")
	f.StringVar(&tenant, "tenant", "", "Trailwatch tenant the records belong to (vendor records carry none)")
	f.StringVar(&collector, "collector", "", "value of source.collector (optional)")
	f.StringVar(&mapping, "mapping", "", "YAML mapping file, for --format generic")
	_ = cmd.MarkFlagRequired("format")
	_ = cmd.MarkFlagRequired("tenant")
	return cmd
}

type printSink struct {
	out    *bufio.Writer
	errOut io.Writer
}

func (s *printSink) Accept(_ int, _ *event.Event, encoded []byte) error {
	if _, err := s.out.Write(encoded); err != nil {
		return err
	}
	return s.out.WriteByte('\n')
}

func (s *printSink) Reject(r normalize.Reject) error {
	_, err := fmt.Fprintf(s.errOut, "line %d: %s\n", r.Line, strings.ReplaceAll(r.Err.Error(), "\n", "; "))
	return err
}
