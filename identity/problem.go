package identity

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxProblems bounds the problems one file reports: past it the file is
// hopeless, and listing a million bad rows helps nobody.
const maxProblems = 1000

// Location is where an entry is in its file: a line (CSV) or a position in
// a JSON array (JSON, SCIM).
type Location struct {
	File  string
	Line  int // 1-based; 0 when the format has no lines
	Index int // 0-based position in the array; -1 when not an array
}

func (l Location) String() string {
	switch {
	case l.Line > 0:
		return l.File + ":" + strconv.Itoa(l.Line)
	case l.Index >= 0:
		return l.File + ": [" + strconv.Itoa(l.Index) + "]"
	}
	return l.File
}

// Problem is one reason a snapshot is refused: where, which field, why.
type Problem struct {
	Location
	Field   string
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Location.String())
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// InvalidError is a refused snapshot with every problem found.
type InvalidError struct {
	Problems  []Problem
	Truncated bool // more problems than maxProblems were found
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "directory snapshot refused: %d problem(s)", len(e.Problems))
	if e.Truncated {
		b.WriteString(" (stopped counting)")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects the problems of one parse.
type problems struct {
	list      []Problem
	truncated bool
}

func (ps *problems) add(at Location, field, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		ps.truncated = true
		return
	}
	ps.list = append(ps.list, Problem{Location: at, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) full() bool { return len(ps.list) >= maxProblems }

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return &InvalidError{Problems: ps.list, Truncated: ps.truncated}
}
