package compliance

import (
	"context"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/queries"
)

// Any is the value of an object type or field filter that matches all.
const Any = "-"

// Change is one field change of a stored event.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Version is one stored event that touched a record.
type Version struct {
	At         time.Time `json:"at"`
	EventID    string    `json:"event_id"`
	Partition  int32     `json:"-"`
	Offset     int64     `json:"-"`
	ObjectType string    `json:"object_type"`
	Category   string    `json:"category"`
	Action     string    `json:"action"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason,omitempty"`
	UserID     string    `json:"user_id"`
	UserName   string    `json:"user_name,omitempty"`
	ClientIP   string    `json:"client_ip,omitempty"`
	Country    string    `json:"country,omitempty"`
	City       string    `json:"city,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	Changes    []Change  `json:"changes"`
}

// FieldValue is one field of a record as of an instant.
type FieldValue struct {
	Field     string    `json:"field"`
	Value     string    `json:"value"`
	ChangedAt time.Time `json:"changed_at"`
	ChangedBy string    `json:"changed_by"`
	EventID   string    `json:"event_id"`
}

// Access is one view, search, report run or export that touched a record.
type Access struct {
	At         time.Time `json:"at"`
	EventID    string    `json:"event_id"`
	Category   string    `json:"category"`
	Action     string    `json:"action"`
	Outcome    string    `json:"outcome"`
	UserID     string    `json:"user_id"`
	UserName   string    `json:"user_name,omitempty"`
	ClientIP   string    `json:"client_ip,omitempty"`
	Country    string    `json:"country,omitempty"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Records    *uint64   `json:"records,omitempty"`
}

// RecordRef names one record of a tenant; ObjectType may be Any.
type RecordRef struct {
	Tenant     string
	ObjectType string
	ObjectID   string
}

func (r RecordRef) params() map[string]string {
	t := r.ObjectType
	if t == "" {
		t = Any
	}
	return map[string]string{"tenant": r.Tenant, "object_type": t, "object_id": r.ObjectID}
}

func timeParam(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// Versions returns the record's versions up to and including asOf, oldest
// first (named query record-versions).
func Versions(ctx context.Context, st *chstore.Store, rec RecordRef, asOf time.Time) ([]Version, error) {
	p := rec.params()
	p["as_of"] = timeParam(asOf)
	rows, err := queries.Run(ctx, st, "record-versions", p)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var fields, olds, news []string
		if err := rows.Scan(&v.At, &v.EventID, &v.Partition, &v.Offset, &v.ObjectType, &v.Category, &v.Action, &v.Outcome, &v.Reason,
			&v.UserID, &v.UserName, &v.ClientIP, &v.Country, &v.City, &v.Comment, &fields, &olds, &news); err != nil {
			return nil, fmt.Errorf("reading record-versions: %w", err)
		}
		v.At = v.At.UTC()
		v.Changes = make([]Change, len(fields))
		for i, f := range fields {
			v.Changes[i] = Change{Field: f, Old: at(olds, i), New: at(news, i)}
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading record-versions: %w", err)
	}
	return out, nil
}

// AsOf returns the record's field values as of asOf, by field name (named
// query record-as-of): every field changed up to asOf, with the value its
// last change set.
func AsOf(ctx context.Context, st *chstore.Store, rec RecordRef, asOf time.Time) ([]FieldValue, error) {
	p := rec.params()
	p["as_of"] = timeParam(asOf)
	rows, err := queries.Run(ctx, st, "record-as-of", p)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FieldValue
	for rows.Next() {
		var f FieldValue
		if err := rows.Scan(&f.Field, &f.Value, &f.ChangedAt, &f.ChangedBy, &f.EventID); err != nil {
			return nil, fmt.Errorf("reading record-as-of: %w", err)
		}
		f.ChangedAt = f.ChangedAt.UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading record-as-of: %w", err)
	}
	return out, nil
}

// AccessHistory returns who viewed or exported the record between from and
// to, newest first (named query record-access).
func AccessHistory(ctx context.Context, st *chstore.Store, tenant, objectID string, from, to time.Time) ([]Access, error) {
	rows, err := queries.Run(ctx, st, "record-access", map[string]string{
		"tenant": tenant, "object_id": objectID, "from": timeParam(from), "to": timeParam(to)})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		var a Access
		if err := rows.Scan(&a.At, &a.EventID, &a.Category, &a.Action, &a.Outcome, &a.UserID, &a.UserName,
			&a.ClientIP, &a.Country, &a.ObjectType, &a.ObjectID, &a.Records); err != nil {
			return nil, fmt.Errorf("reading record-access: %w", err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading record-access: %w", err)
	}
	return out, nil
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
