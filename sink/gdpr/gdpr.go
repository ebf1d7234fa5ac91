// Package gdpr answers data-subject requests over the stored audit
// trail: Export writes every stored event by or about a person.
//
// "By or about" a person, for a subject given as a person id or an account
// id, means:
//
//   - the subject's identities: the id given; every account whose events
//     name it as their person (user.person_id), or the person of the
//     account given, and that person's other accounts; and the login names
//     (user.name, target_user.name) those accounts appear under;
//   - an event is by the subject when its actor is one of those accounts
//     or persons (user.id, user.person_id);
//   - it is about the subject when one of the accounts is its target
//     (target_user.id), the owner of the record acted on
//     (object.owner_id), the record itself (object.type "user" and
//     object.id), a related record (related[].id), or when a field change
//     has one of the identities (ids or login names) as its old or new
//     value, exactly.
//
// Free text (comments, labels, record names) is not searched: a name
// appearing inside it is not a reliable reference to the subject.
package gdpr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// Identities are the ids and names a subject is known by.
type Identities struct {
	Accounts []string `json:"accounts"`
	Persons  []string `json:"persons"`
	Names    []string `json:"names"`
}

// Record is one line of the export.
type Record struct {
	Event      json.RawMessage `json:"event"`   // the canonical event, as the source gave it
	Matched    []string        `json:"matched"` // why it is included: actor, target_user, object_owner, user_record, related, changes
	Stored     Stored          `json:"stored"`
	AlertRules []string        `json:"alert_rule_ids"`
}

// Stored is what the sink added to the event.
type Stored struct {
	IngestedAt     time.Time  `json:"ingested_at"`
	KafkaPartition int32      `json:"kafka_partition"`
	KafkaOffset    int64      `json:"kafka_offset"`
	Geo            *event.Geo `json:"geo_enrichment,omitempty"`
	Directory      *Directory `json:"directory,omitempty"`
}

// Directory is the directory enrichment stored with an event.
type Directory struct {
	Role       string `json:"role,omitempty"`
	Department string `json:"department,omitempty"`
	Manager    string `json:"manager,omitempty"`
}

// Resolve finds the identities of subject in tenant.
func Resolve(ctx context.Context, st *chstore.Store, tenant, subject string) (Identities, error) {
	id := Identities{Accounts: []string{subject}, Persons: []string{subject}}
	params := func(extra clickhouse.Parameters) context.Context {
		p := clickhouse.Parameters{"t": chstore.StringParam(tenant), "s": chstore.StringParam(subject)}
		for k, v := range extra {
			p[k] = v
		}
		return clickhouse.Context(ctx, clickhouse.WithParameters(p))
	}
	var accounts, persons []string
	if err := st.Conn().QueryRow(params(nil), `SELECT groupUniqArray(user_id), groupUniqArrayIf(person_id, person_id != '')
		FROM audit_events WHERE tenant = {t:String} AND (user_id = {s:String} OR person_id = {s:String})`).Scan(&accounts, &persons); err != nil {
		return id, fmt.Errorf("resolving %s: %w", subject, err)
	}
	id.Persons = union(id.Persons, persons)
	var names, targetNames []string
	if err := st.Conn().QueryRow(params(clickhouse.Parameters{"p": arrayLiteral(id.Persons)}), `SELECT groupUniqArray(user_id), groupUniqArrayIf(user_name, user_name != '')
		FROM audit_events WHERE tenant = {t:String} AND (user_id = {s:String} OR person_id IN {p:Array(String)})`).Scan(&accounts, &names); err != nil {
		return id, fmt.Errorf("resolving the accounts of %s: %w", subject, err)
	}
	id.Accounts = union(id.Accounts, accounts)
	if err := st.Conn().QueryRow(params(clickhouse.Parameters{"a": arrayLiteral(id.Accounts)}), `SELECT groupUniqArrayIf(target_user_name, target_user_name != '')
		FROM audit_events WHERE tenant = {t:String} AND target_user_id IN {a:Array(String)}`).Scan(&targetNames); err != nil {
		return id, fmt.Errorf("resolving the names of %s: %w", subject, err)
	}
	id.Names = union(names, targetNames)
	return id, nil
}

// Export writes, as NDJSON in event-time order, every event of tenant by
// or about subject, each once. It returns how many it wrote.
func Export(ctx context.Context, st *chstore.Store, tenant, subject string, w io.Writer) (Identities, int, error) {
	id, err := Resolve(ctx, st, tenant, subject)
	if err != nil {
		return id, 0, err
	}
	ids := union(union(id.Accounts, id.Persons), id.Names)
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"t": chstore.StringParam(tenant), "a": arrayLiteral(id.Accounts), "p": arrayLiteral(id.Persons), "i": arrayLiteral(ids),
	}))
	rows, err := st.Query(qctx, `SELECT `+auditrow.SelectList+` FROM audit_events
		WHERE tenant = {t:String} AND (
			user_id IN {a:Array(String)} OR person_id IN {p:Array(String)}
			OR target_user_id IN {a:Array(String)} OR object_owner_id IN {a:Array(String)}
			OR (object_type = 'user' AND object_id IN {a:Array(String)})
			OR hasAny(related_id, {a:Array(String)})
			OR hasAny(change_old, {i:Array(String)}) OR hasAny(change_new, {i:Array(String)}))
		ORDER BY timestamp, id
		LIMIT 1 BY id`)
	if err != nil {
		return id, 0, fmt.Errorf("reading the events of %s: %w", subject, err)
	}
	var found []auditrow.Row
	var sc auditrow.Scanner
	for rows.Next() {
		var r auditrow.Row
		if err := sc.Scan(rows, &r); err != nil {
			rows.Close()
			return id, 0, err
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return id, 0, err
	}
	hits, err := ruleHits(ctx, st, tenant, found)
	if err != nil {
		return id, 0, err
	}
	set := func(ss []string) map[string]bool {
		m := make(map[string]bool, len(ss))
		for _, s := range ss {
			m[s] = true
		}
		return m
	}
	accounts, persons, all := set(id.Accounts), set(id.Persons), set(ids)
	enc := json.NewEncoder(w)
	for i := range found {
		r := &found[i]
		e := r.ToEvent()
		rec := Record{
			Event:      event.AppendJSON(nil, &e),
			Matched:    matched(r, accounts, persons, all),
			Stored:     Stored{IngestedAt: time.UnixMilli(r.IngestedAtMs).UTC(), KafkaPartition: r.Partition, KafkaOffset: r.Offset},
			AlertRules: hits[r.ID],
		}
		if rec.AlertRules == nil {
			rec.AlertRules = []string{}
		}
		if r.GeoEnriched {
			rec.Stored.Geo = &event.Geo{Country: r.GeoCountry, Region: r.GeoRegion, City: r.GeoCity, Lat: r.GeoLat, Lon: r.GeoLon, HasCoords: r.HasCoords}
		}
		if r.DirRole != "" || r.DirDepartment != "" || r.DirManager != "" {
			rec.Stored.Directory = &Directory{Role: r.DirRole, Department: r.DirDepartment, Manager: r.DirManager}
		}
		if err := enc.Encode(rec); err != nil {
			return id, i, fmt.Errorf("writing the export: %w", err)
		}
	}
	return id, len(found), nil
}

// matched says why r is in the export.
func matched(r *auditrow.Row, accounts, persons, ids map[string]bool) []string {
	var out []string
	add := func(ok bool, why string) {
		if ok {
			out = append(out, why)
		}
	}
	add(accounts[r.UserID] || persons[r.PersonID], "actor")
	add(accounts[r.TargetUserID], "target_user")
	add(accounts[r.ObjectOwnerID], "object_owner")
	add(r.ObjectType == "user" && accounts[r.ObjectID], "user_record")
	add(slices.ContainsFunc(r.RelatedID, func(s string) bool { return accounts[s] }), "related")
	in := func(s string) bool { return ids[s] }
	add(slices.ContainsFunc(r.ChangeOld, in) || slices.ContainsFunc(r.ChangeNew, in), "changes")
	return out
}

// ruleHits returns the rules that alerted on each of rows' events.
func ruleHits(ctx context.Context, st *chstore.Store, tenant string, rows []auditrow.Row) (map[string][]string, error) {
	out := map[string][]string{}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"t": chstore.StringParam(tenant), "e": arrayLiteral(ids)}))
	res, err := st.Query(ctx, `SELECT event_id, arraySort(groupUniqArray(rule_id)) FROM alert_event_hits
		WHERE tenant = {t:String} AND event_id IN {e:Array(String)} GROUP BY event_id`)
	if err != nil {
		return nil, fmt.Errorf("reading alert hits: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var id string
		var rules []string
		if err := res.Scan(&id, &rules); err != nil {
			return nil, err
		}
		out[id] = rules
	}
	return out, res.Err()
}

// arrayLiteral writes ss as a ClickHouse Array(String) parameter value.
func arrayLiteral(ss []string) string { return chstore.ArrayParam(ss) }

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
