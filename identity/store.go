package identity

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
)

// Stored describes one snapshot kept in ClickHouse.
type Stored struct {
	Tenant     string
	ID         string
	ImportedAt time.Time
	Digest     string
	SourceFile string
	Format     Format
	People     int
	Joiners    int
	Leavers    int
	Moves      int
}

// NewStored describes snapshot s of tenant imported at at, with the
// numbers of changes.
func NewStored(tenant string, s *Snapshot, file string, f Format, at time.Time, changes []Change) Stored {
	at = at.UTC().Truncate(time.Millisecond)
	st := Stored{Tenant: tenant, ID: s.Digest[:min(16, len(s.Digest))] + "-" + strconv.FormatInt(at.UnixMilli(), 10),
		ImportedAt: at, Digest: s.Digest, SourceFile: file, Format: f, People: len(s.People)}
	for _, c := range changes {
		switch c.Kind {
		case Joiner:
			st.Joiners++
		case Leaver:
			st.Leavers++
		case Move:
			st.Moves++
		}
	}
	return st
}

// Save stores s as the snapshot meta describes: its people first, then the
// snapshot row that makes it visible (directory_snapshots is the commit
// record). Saving again after a failure is harmless.
func Save(ctx context.Context, st *chstore.Store, meta Stored, s *Snapshot) error {
	b, err := st.PrepareBatch(ctx, `INSERT INTO directory_people (tenant, snapshot_id, imported_at, person_id,
		given_name, family_name, display_name, emails, employee_id, department, role, manager, timezone, status,
		status_date, type, owner, accounts)`)
	if err != nil {
		return fmt.Errorf("preparing the directory insert: %w", err)
	}
	for i := range s.People {
		p := &s.People[i]
		var date *time.Time
		if p.StatusDate != "" {
			if d, err := time.Parse(time.DateOnly, p.StatusDate); err == nil {
				date = &d
			}
		}
		accts := make([]string, len(p.Accounts))
		for i, a := range p.Accounts {
			accts[i] = a.String()
		}
		emails := p.Emails
		if emails == nil {
			emails = []string{}
		}
		if err := b.Append(meta.Tenant, meta.ID, meta.ImportedAt, p.ID, p.GivenName, p.FamilyName, p.DisplayName,
			emails, p.EmployeeID, p.Department, p.Role, p.Manager, p.Timezone, string(p.Status), date,
			string(p.Type), p.Owner, accts); err != nil {
			_ = b.Abort()
			return fmt.Errorf("directory person %s: %w", p.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d directory people: %w", len(s.People), err)
	}
	// The time goes as milliseconds: a bound time.Time is sent to the
	// second, and two imports within one second would then tie for latest.
	if err := st.Exec(ctx, `INSERT INTO directory_snapshots (tenant, snapshot_id, imported_at, digest, source_file,
		format, people, joiners, leavers, moves) VALUES (?, ?, fromUnixTimestamp64Milli(?, 'UTC'), ?, ?, ?, ?, ?, ?, ?)`,
		meta.Tenant, meta.ID, meta.ImportedAt.UnixMilli(), meta.Digest, meta.SourceFile, string(meta.Format),
		uint32(meta.People), uint32(meta.Joiners), uint32(meta.Leavers), uint32(meta.Moves)); err != nil {
		return fmt.Errorf("recording directory snapshot %s: %w", meta.ID, err)
	}
	return nil
}

// Latest loads tenant's newest stored snapshot; ok is false when there is
// none.
func Latest(ctx context.Context, st *chstore.Store, tenant string) (s *Snapshot, meta Stored, ok bool, err error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"t": chstore.StringParam(tenant)}))
	rows, err := st.Query(qctx, `SELECT snapshot_id, imported_at, digest, source_file, format, people, joiners, leavers, moves
		FROM directory_snapshots WHERE tenant = {t:String} ORDER BY imported_at DESC, snapshot_id DESC LIMIT 1`)
	if err != nil {
		return nil, meta, false, fmt.Errorf("finding the latest directory snapshot: %w", err)
	}
	var people, joiners, leavers, moves uint32
	var format string
	found := false
	for rows.Next() {
		if err := rows.Scan(&meta.ID, &meta.ImportedAt, &meta.Digest, &meta.SourceFile, &format, &people, &joiners, &leavers, &moves); err != nil {
			rows.Close()
			return nil, meta, false, fmt.Errorf("reading the latest directory snapshot: %w", err)
		}
		found = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, meta, false, fmt.Errorf("reading the latest directory snapshot: %w", err)
	}
	if !found {
		return nil, meta, false, nil
	}
	meta.Tenant, meta.Format = tenant, Format(format)
	meta.People, meta.Joiners, meta.Leavers, meta.Moves = int(people), int(joiners), int(leavers), int(moves)
	meta.ImportedAt = meta.ImportedAt.UTC()

	pctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"t": chstore.StringParam(tenant), "s": chstore.StringParam(meta.ID)}))
	prow, err := st.Query(pctx, `SELECT person_id, given_name, family_name, display_name, emails, employee_id,
		department, role, manager, timezone, status, status_date, type, owner, accounts
		FROM directory_people WHERE tenant = {t:String} AND snapshot_id = {s:String}
		ORDER BY person_id LIMIT 1 BY person_id`)
	if err != nil {
		return nil, meta, false, fmt.Errorf("loading directory snapshot %s: %w", meta.ID, err)
	}
	defer prow.Close()
	s = &Snapshot{}
	for prow.Next() {
		var p Person
		var status, typ string
		var date *time.Time
		var accts []string
		if err := prow.Scan(&p.ID, &p.GivenName, &p.FamilyName, &p.DisplayName, &p.Emails, &p.EmployeeID,
			&p.Department, &p.Role, &p.Manager, &p.Timezone, &status, &date, &typ, &p.Owner, &accts); err != nil {
			return nil, meta, false, fmt.Errorf("reading directory snapshot %s: %w", meta.ID, err)
		}
		p.Status, p.Type = Status(status), Type(typ)
		if date != nil {
			p.StatusDate = date.Format(time.DateOnly)
		}
		if len(p.Emails) == 0 {
			p.Emails = nil
		}
		for _, a := range accts {
			if acct, ok := parseAccount(a); ok {
				p.Accounts = append(p.Accounts, acct)
			}
		}
		s.People = append(s.People, p)
	}
	if err := prow.Err(); err != nil {
		return nil, meta, false, fmt.Errorf("reading directory snapshot %s: %w", meta.ID, err)
	}
	s.finish()
	return s, meta, true, nil
}
