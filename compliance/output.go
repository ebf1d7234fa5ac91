package compliance

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the output formats of the history and revert commands.
var Formats = []string{"table", "json", "csv"}

// CheckFormat says whether f is one of Formats.
func CheckFormat(f string) error {
	for _, ok := range Formats {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("--format: %q, want table, json or csv", f)
}

// History is a record's history report: its versions, its field values as
// of an instant and, when asked for, who accessed it.
type History struct {
	Tenant     string       `json:"tenant"`
	ObjectType string       `json:"object_type"`
	ObjectID   string       `json:"object_id"`
	AsOf       time.Time    `json:"as_of"`
	Versions   []Version    `json:"versions"`
	State      []FieldValue `json:"state"`
	Access     []Access     `json:"access,omitempty"`
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Write renders h: json (one document), csv (one row per field change of
// each version, then the state and access rows, each with a leading
// section column) or table.
func (h History) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(h)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"section", "at", "event_id", "action", "user_id", "user_name", "client_ip", "country", "field", "old", "new", "comment"})
		for _, v := range h.Versions {
			if len(v.Changes) == 0 {
				_ = cw.Write([]string{"version", ts(v.At), v.EventID, v.Action, v.UserID, v.UserName, v.ClientIP, v.Country, "", "", "", v.Comment})
			}
			for _, c := range v.Changes {
				_ = cw.Write([]string{"version", ts(v.At), v.EventID, v.Action, v.UserID, v.UserName, v.ClientIP, v.Country, c.Field, c.Old, c.New, v.Comment})
			}
		}
		for _, f := range h.State {
			_ = cw.Write([]string{"state", ts(f.ChangedAt), f.EventID, "", f.ChangedBy, "", "", "", f.Field, "", f.Value, ""})
		}
		for _, a := range h.Access {
			_ = cw.Write([]string{"access", ts(a.At), a.EventID, a.Action, a.UserID, a.UserName, a.ClientIP, a.Country, "", "", "", ""})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Record %s %s of tenant %s, as of %s\n\nVERSIONS\nat\tevent\taction\tuser\tfrom\tfield\told\tnew\treason\n", h.ObjectType, h.ObjectID, h.Tenant, ts(h.AsOf))
	for _, v := range h.Versions {
		from := v.ClientIP
		if v.Country != "" {
			from += " (" + v.Country + ")"
		}
		reason := v.Comment
		if reason == "" {
			reason = v.Reason
		}
		if len(v.Changes) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\t\t\t%s\n", ts(v.At), v.EventID, v.Action, v.UserID, from, reason)
		}
		for _, c := range v.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ts(v.At), v.EventID, v.Action, v.UserID, from, c.Field, strconv.Quote(c.Old), strconv.Quote(c.New), reason)
		}
	}
	fmt.Fprintf(tw, "\nFIELDS AS OF %s\nfield\tvalue\tset at\tset by\tevent\n", ts(h.AsOf))
	for _, f := range h.State {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Field, strconv.Quote(f.Value), ts(f.ChangedAt), f.ChangedBy, f.EventID)
	}
	if h.Access != nil {
		fmt.Fprintf(tw, "\nACCESS\nat\tevent\taction\tuser\tfrom\tvia\trecords\n")
		for _, a := range h.Access {
			recs := ""
			if a.Records != nil {
				recs = strconv.FormatUint(*a.Records, 10)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\t%s\n", ts(a.At), a.EventID, a.Action, a.UserID, a.ClientIP, a.ObjectType, a.ObjectID, recs)
		}
	}
	return tw.Flush()
}

// Write renders the plan: json (one document), csv (one row per write,
// for a CRM's import tools: object_type, object_id, field, value, then
// whether it is a conflict) or table.
func (p Plan) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"object_type", "object_id", "field", "value", "expected_current", "conflict", "conflict_by", "conflict_at", "noop", "undoes", "action_id"})
		for _, x := range p.Writes {
			conflictAt := ""
			if x.Conflict {
				conflictAt = ts(x.ConflictAt)
			}
			_ = cw.Write([]string{x.ObjectType, x.ObjectID, x.Field, x.Value, x.Expected, strconv.FormatBool(x.Conflict), x.ConflictBy, conflictAt,
				strconv.FormatBool(x.Noop), strings.Join(x.Undoes, " "), x.ActionID})
		}
		cw.Flush()
		return cw.Error()
	}
	writes, conflicts, noops := p.Counts()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Rollback plan %s: %d writes, %d conflicts (not written), %d already restored\n\nrecord\tfield\tset to\tnow\tstatus\n", p.ID, writes, conflicts, noops)
	for _, x := range p.Writes {
		status := "write"
		switch {
		case x.Conflict:
			status = fmt.Sprintf("CONFLICT: changed by %s at %s", x.ConflictBy, ts(x.ConflictAt))
		case x.Noop:
			status = "already restored"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\n", x.ObjectType, x.ObjectID, x.Field, strconv.Quote(x.Value), strconv.Quote(x.Expected), status)
	}
	return tw.Flush()
}
