package ingest

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/trailwatch/trailwatch/ingest/generic"
	"github.com/trailwatch/trailwatch/ingest/normalize"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// FormatCanonical is the format of input that is canonical events already
// (shared/contracts/event.md), one JSON object per record; every other format
// name is a vendor format of ingest/normalize.
const FormatCanonical = "canonical"

// Source is one configured input of the collectors: a file collector run, an
// HTTP source, or a poller. Its name is the `source` label on every event
// (Kafka header and, when the event names no collector, source.collector),
// metric and dead letter it produces, so it must come from configuration,
// never from the input.
type Source struct {
	Name     string `yaml:"name" doc:"Name of the source: the source label on its events, metrics and dead letters (letters, digits, '-', '_', '.')."`
	Tenant   string `yaml:"tenant" doc:"Tenant of its events: vendor records carry none; canonical events must name this one (empty accepts any, for trusted canonical sources)."`
	Format   string `yaml:"format" doc:"Input format: canonical (default) or a vendor format of trailwatch normalize."`
	Mapping  string `yaml:"mapping" doc:"YAML mapping file of the generic format."`
	Backfill bool   `yaml:"backfill" doc:"Accept events of any age (replay and backfill); otherwise the live path refuses events older than ingest.max_age."`
}

var sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate reports every problem of s at once, each prefixed with where
// (the setting or flag that names the source).
func (s Source) Validate(where string) error {
	var errs []error
	if !sourceName.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("%s.name: %q must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit", where, s.Name))
	}
	format := s.format()
	if format != FormatCanonical {
		if _, ok := normalize.KindOf(format); !ok {
			errs = append(errs, fmt.Errorf("%s.format: %q is not canonical nor one of %v", where, format, normalize.Formats()))
		} else if s.Tenant == "" {
			errs = append(errs, fmt.Errorf("%s.tenant: required with format %s (vendor records name no tenant)", where, format))
		}
	}
	if (format == generic.Format) != (s.Mapping != "") {
		errs = append(errs, fmt.Errorf("%s.mapping: the generic format needs a mapping file, and only it", where))
	}
	return errors.Join(errs...)
}

func (s Source) format() string {
	if s.Format == "" {
		return FormatCanonical
	}
	return s.Format
}

// Limits are the contract's limits a collector checks events against.
type Limits struct {
	// MaxAge is how old an event may be on the live path (0: any age).
	MaxAge time.Duration
	// MaxFuture is how far ahead of the ingest clock an event may be.
	MaxFuture time.Duration
}

// DefaultLimits are the contract's: 7 days behind, 10 minutes ahead.
func DefaultLimits() Limits {
	return Limits{MaxAge: event.DefaultMaxAge, MaxFuture: event.DefaultMaxFuture}
}

// Parser turns the input records of one source into canonical events. It is
// immutable and safe for concurrent use.
type Parser struct {
	source string
	tenant string
	norm   record.Normalizer // nil for canonical input
	opts   event.Options     // Now is set per call
}

// NewParser builds the parser of s reading format (empty: the source's own
// format). A generic mapping is read from s.Mapping.
func NewParser(s Source, format string, limits Limits) (*Parser, error) {
	if format == "" {
		format = s.format()
	}
	opts := event.DefaultOptions()
	opts.MaxAge, opts.MaxFuture = limits.MaxAge, limits.MaxFuture
	if s.Backfill {
		opts.MaxAge = 0
	}
	p := &Parser{source: s.Name, tenant: s.Tenant, opts: opts}
	if format == FormatCanonical {
		return p, nil
	}
	var nopts normalize.Options
	if format == generic.Format {
		if s.Mapping == "" {
			return nil, normalize.ErrNeedsMapping
		}
		m, err := generic.Load(s.Mapping)
		if err != nil {
			return nil, err
		}
		nopts.Mapping = m
	}
	n, err := normalize.Lookup(format, nopts)
	if err != nil {
		return nil, err
	}
	if s.Tenant == "" {
		return nil, fmt.Errorf("source %s: format %s needs a tenant: %w", s.Name, format, record.ErrNoTenant)
	}
	p.norm = n
	return p, nil
}

// Source is the name of the parser's source.
func (p *Parser) Source() string { return p.source }

// Format is the format the parser reads.
func (p *Parser) Format() string {
	if p.norm == nil {
		return FormatCanonical
	}
	return p.norm.Format()
}

// Kind says how the parser's records are framed: JSON objects or CSV rows.
func (p *Parser) Kind() record.Kind {
	if p.norm == nil {
		return record.JSON
	}
	return p.norm.Kind()
}

// MaxEventBytes is the largest event the parser accepts, encoded.
func (p *Parser) MaxEventBytes() int { return p.opts.MaxBytes }

// Parse reads one record into ev (whose slices and map it may reuse),
// checking every rule of the contract against the clock now. A canonical
// event must belong to the source's tenant, when it has one; one that names
// no collector gets the source's name. The error is an
// *event.ValidationError, an *ErrTenant, or a normaliser's error; Reason
// classifies it.
func (p *Parser) Parse(rec record.Record, now time.Time, ev *event.Event) error {
	opts := p.opts
	opts.Now = now
	if p.norm == nil {
		if rec.Data == nil {
			return fmt.Errorf("canonical events are JSON objects, not CSV rows")
		}
		if err := event.DecodeInto(ev, rec.Data, opts); err != nil {
			return err
		}
		if p.tenant != "" && ev.Tenant != p.tenant {
			return &TenantError{Got: ev.Tenant, Want: p.tenant}
		}
		if ev.Source.Collector == "" {
			ev.Source.Collector = p.source
		}
		return nil
	}
	e, err := normalize.Normalize(p.norm, rec, record.Meta{Tenant: p.tenant, Collector: p.source}, opts)
	if err != nil {
		return err
	}
	*ev = e
	return nil
}

// TenantError is a canonical event of another tenant than its source's: an
// authenticated source can write only to its own tenant.
type TenantError struct{ Got, Want string }

func (e *TenantError) Error() string {
	return fmt.Sprintf("tenant: %s is not this source's tenant %s", record.Quote(e.Got), record.Quote(e.Want))
}
