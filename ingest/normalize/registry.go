package normalize

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/ingest/dynamics365"
	"github.com/trailwatch/trailwatch/ingest/generic"
	"github.com/trailwatch/trailwatch/ingest/hubspot"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/salesforce"
)

// Options configure formats that need more than their name.
type Options struct {
	// Mapping is the loaded configuration of the generic format.
	Mapping *generic.Mapping
}

// ErrUnknownFormat is returned by Lookup for a name no format has.
var ErrUnknownFormat = errors.New("unknown format")

// ErrNeedsMapping is returned by Lookup("generic") without Options.Mapping.
var ErrNeedsMapping = errors.New("format generic needs a mapping (--mapping FILE)")

// vendorFormats lists the built-in formats. It is built on each call, not
// kept in a package variable: the normalisers are stateless values.
func vendorFormats() map[string]record.Normalizer {
	m := map[string]record.Normalizer{}
	for _, group := range [][]record.Normalizer{salesforce.Normalizers(), hubspot.Normalizers(), dynamics365.Normalizers()} {
		for _, n := range group {
			m[n.Format()] = n
		}
	}
	return m
}

// Lookup returns the normaliser registered under a `--format` name.
func Lookup(format string, opts Options) (record.Normalizer, error) {
	if format == generic.Format {
		if opts.Mapping == nil {
			return nil, ErrNeedsMapping
		}
		return opts.Mapping.Normalizer(), nil
	}
	if n, ok := vendorFormats()[format]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

// Formats returns every format name, sorted, generic included.
func Formats() []string {
	names := []string{generic.Format}
	for n := range vendorFormats() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// KindOf tells whether a format reads JSON records or CSV rows without
// building it (generic reads JSON).
func KindOf(format string) (record.Kind, bool) {
	if format == generic.Format {
		return record.JSON, true
	}
	n, ok := vendorFormats()[format]
	if !ok {
		return 0, false
	}
	return n.Kind(), true
}
