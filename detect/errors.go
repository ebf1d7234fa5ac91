package detect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// LoadError is one problem found while loading or compiling rules: where
// (file, line, column; column 0 when only the line is known) and why.
type LoadError struct {
	File   string
	Line   int
	Column int
	Rule   string // the rule's id, when known
	Msg    string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// LoadErrors is every problem a load found, in file and line order. Load
// reports them all at once so an analyst fixes a rule in one pass.
type LoadErrors []*LoadError

func (es LoadErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *LoadError.
func (es LoadErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es LoadErrors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// asLoadErrors flattens err into LoadErrors (for callers that want the list).
func asLoadErrors(err error) LoadErrors {
	var les LoadErrors
	if errors.As(err, &les) {
		return les
	}
	var le *LoadError
	if errors.As(err, &le) {
		return LoadErrors{le}
	}
	return nil
}

// Sentinel errors callers branch on.
var (
	// ErrSnapshotIncompatible: a snapshot was taken under other rules, an
	// other configuration or an other format version.
	ErrSnapshotIncompatible = errors.New("snapshot incompatible with the loaded rules")
	// ErrSnapshotCorrupt: a snapshot is truncated or fails its checksum.
	ErrSnapshotCorrupt = errors.New("snapshot corrupt")
)
