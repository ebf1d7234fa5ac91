package score

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// maxAlertLine bounds one line of an alerts file.
const maxAlertLine = 4 << 20

// ReadAlerts reads alerts as replay and the detector write them (NDJSON,
// shared/contracts/alert.md). Every problem is reported with its line
// (name:line: why); reading stops after 20 of them. Blank lines are
// skipped; an alert id seen before (a duplicate delivery) is counted once.
func ReadAlerts(r io.Reader, name string) ([]alert.Alert, error) {
	var out []alert.Alert
	var errs []error
	seen := map[string]bool{}
	lr := record.NewLineReader(r, maxAlertLine)
	for {
		b, line, err := lr.Next()
		var tooLong *record.LineError
		if errors.Is(err, io.EOF) {
			break
		} else if errors.As(err, &tooLong) {
			errs = append(errs, fmt.Errorf("%s:%d: line longer than %d bytes", name, line, maxAlertLine))
		} else if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		} else {
			a, perr := parseAlert(b)
			switch {
			case perr != nil:
				errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, perr.Error()))
			case !seen[a.ID]:
				seen[a.ID] = true
				out = append(out, a)
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
	return out, nil
}

func parseAlert(b []byte) (alert.Alert, error) {
	var a alert.Alert
	if !json.Valid(b) {
		var x any
		err := json.Unmarshal(b, &x)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return a, fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
		}
		return a, errors.New("invalid JSON")
	}
	if err := json.Unmarshal(b, &a); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return a, fmt.Errorf("%s: wrong type (%s)", te.Field, te.Value)
		}
		return a, fmt.Errorf("not an alert: %s", err.Error())
	}
	var missing []string
	if a.ID == "" {
		missing = append(missing, "id")
	}
	if a.Rule.ID == "" {
		missing = append(missing, "rule.id")
	}
	if a.Tenant == "" {
		missing = append(missing, "tenant")
	}
	if a.TriggeredAt.IsZero() {
		missing = append(missing, "triggered_at")
	}
	if len(missing) > 0 {
		return a, fmt.Errorf("alert %q lacks %v", a.ID, missing)
	}
	return a, nil
}
