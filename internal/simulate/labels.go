package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// Label is one episode of the simulation, as written to the labels file
// (NDJSON, one per line): the answer key `trailwatch score` grades alerts
// against.
type Label struct {
	// Episode is the episode's unique id.
	Episode string `json:"episode"`
	// Kind is what happened: one attack kind per detection of the pack
	// (impossible_travel, …) or a benign look-alike (travel, …).
	Kind string `json:"kind"`
	// Class is "attack" or "benign".
	Class string `json:"class"`
	// Rule is, for an attack, the rule that must detect it; for a benign
	// look-alike, the rule it imitates and must not fire.
	Rule   string `json:"rule"`
	Tenant string `json:"tenant"`
	// Person is the subject's person key (user.person_id, or the account id
	// when the directory did not resolve it); Accounts are the accounts
	// involved; Login is the login name; Object the record, when the
	// episode is about one.
	Person   string   `json:"person,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Login    string   `json:"login,omitempty"`
	Object   string   `json:"object,omitempty"`
	// Start and End are the event times of the episode's first and last
	// events.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Events are the ids of the episode's events, in time order.
	Events []string `json:"events"`
	// Note says what happened, for people.
	Note string `json:"note,omitempty"`
}

// Label classes.
const (
	ClassAttack = "attack"
	ClassBenign = "benign"
)

// Subjects are the label's keys an alert's group may name.
func (l *Label) Subjects() []string {
	out := make([]string, 0, 3+len(l.Accounts))
	for _, s := range append([]string{l.Person, l.Login, l.Object}, l.Accounts...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// MarshalJSON writes times with milliseconds in UTC, as alerts do.
func (l Label) MarshalJSON() ([]byte, error) {
	type plain Label
	return json.Marshal(struct {
		plain
		Start string `json:"start"`
		End   string `json:"end"`
	}{plain(l), l.Start.UTC().Format(timeFormat), l.End.UTC().Format(timeFormat)})
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

var episodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$`)

// Validate checks one label.
func (l *Label) Validate() error {
	var errs []error
	if !episodeRE.MatchString(l.Episode) {
		errs = append(errs, fmt.Errorf("episode: %q is not an id (letters, digits, _ . : -; at most 200)", l.Episode))
	}
	if l.Kind == "" {
		errs = append(errs, errors.New("kind: required"))
	}
	if l.Class != ClassAttack && l.Class != ClassBenign {
		errs = append(errs, fmt.Errorf("class: %q, want attack or benign", l.Class))
	}
	if l.Class == ClassAttack && l.Rule == "" {
		errs = append(errs, errors.New("rule: required for an attack (the rule that must detect it)"))
	}
	if l.Tenant == "" {
		errs = append(errs, errors.New("tenant: required"))
	}
	if l.Start.IsZero() || l.End.IsZero() {
		errs = append(errs, errors.New("start, end: required"))
	} else if l.End.Before(l.Start) {
		errs = append(errs, fmt.Errorf("end %s is before start %s", l.End.Format(timeFormat), l.Start.Format(timeFormat)))
	}
	if len(l.Events) == 0 {
		errs = append(errs, errors.New("events: at least one event id is required"))
	}
	for i, id := range l.Events {
		if id == "" {
			errs = append(errs, fmt.Errorf("events[%d]: empty id", i))
			break
		}
	}
	return errors.Join(errs...)
}

// WriteLabel writes one label as a line.
func WriteLabel(w io.Writer, l *Label) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding label %s: %w", l.Episode, err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// maxLabelLine bounds one line of a labels file.
const maxLabelLine = 4 << 20

// ReadLabels reads a labels file. Every problem is reported with its line
// (name:line: why); reading stops after 20 of them. Blank lines are
// skipped; episode ids must be unique.
func ReadLabels(r io.Reader, name string) ([]Label, error) {
	var out []Label
	var errs []error
	seen := map[string]int{}
	lr := record.NewLineReader(r, maxLabelLine)
	for {
		b, line, err := lr.Next()
		var tooLong *record.LineError
		if errors.Is(err, io.EOF) {
			break
		} else if errors.As(err, &tooLong) {
			errs = append(errs, fmt.Errorf("%s:%d: line longer than %d bytes", name, line, maxLabelLine))
		} else if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		} else {
			var l Label
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&l); derr != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, jsonProblem(derr)))
			} else if dec.More() {
				errs = append(errs, fmt.Errorf("%s:%d: more than one JSON value on the line", name, line))
			} else if verr := l.Validate(); verr != nil {
				errs = append(errs, fmt.Errorf("%s:%d: episode %q: %s", name, line, l.Episode, oneLine(verr)))
			} else if prev, dup := seen[l.Episode]; dup {
				errs = append(errs, fmt.Errorf("%s:%d: episode %q is already on line %d", name, line, l.Episode, prev))
			} else {
				seen[l.Episode] = line
				out = append(out, l)
			}
		}
		if len(errs) >= 20 {
			errs = append(errs, fmt.Errorf("%s: too many errors; stopped at line %d", name, line))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// jsonProblem says what is wrong with a line's JSON without Go type names.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	case errors.As(err, &te):
		return fmt.Sprintf("%s: want a %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return "invalid label: " + err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "list"
	case "struct", "map":
		return "object"
	case "int", "int64", "float64":
		return "number"
	}
	return k
}

func oneLine(err error) string {
	return string(bytes.ReplaceAll([]byte(err.Error()), []byte("\n"), []byte("; ")))
}
