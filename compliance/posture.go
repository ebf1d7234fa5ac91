package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trailwatch/trailwatch/compliance/report"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/queries"
)

// Finding kinds of the posture audit.
const (
	FindingGhost          = "ghost_account"
	FindingDormant        = "dormant_account"
	FindingOverPrivileged = "over_privileged_account"
	FindingShared         = "shared_account"
	FindingMFADisabled    = "mfa_disabled"
	FindingTopExporter    = "top_exporter"
)

// Finding is one posture audit finding.
type Finding struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Account  string `json:"account"` // system:id, or the user id
	UserName string `json:"user_name,omitempty"`
	// Target is the vendor's id of what a fix acts on: the user id of an
	// account, the app id of a connected app.
	Target   string `json:"target,omitempty"`
	Evidence string `json:"evidence"`
	Fix      string `json:"fix"`
}

// AuditOptions are the windows of the posture audit, in days.
type AuditOptions struct {
	AsOf          time.Time
	GhostDays     int // activity window for ghost accounts
	DormantDays   int // no login for this long is dormant
	PrivilegeDays int // rights unused for this long are over-privilege
	SharedDays    int // login window for shared accounts
	ExportDays    int // window of the top exporters
	TopExporters  int // how many to list (0: none)
	AppUnusedDays int // a connected app unused this long is a finding
	// Permissions is the permissions snapshot (accounts' MFA and rights,
	// connected apps); nil skips the findings that need it.
	Permissions *Permissions
}

// DefaultAuditOptions are 30, 90, 90 and 30 days, the top five exporters
// of 30 days, and apps unused for 90 days, as of asOf.
func DefaultAuditOptions(asOf time.Time) AuditOptions {
	return AuditOptions{AsOf: asOf, GhostDays: 30, DormantDays: 90, PrivilegeDays: 90, SharedDays: 30, ExportDays: 30, TopExporters: 5, AppUnusedDays: 90}
}

// Audit runs the posture queries (posture-ghost-accounts,
// posture-dormant-accounts, posture-over-privileged,
// posture-shared-accounts, posture-mfa-disabled, exports-by-person and,
// with a permissions snapshot, posture-account-usage and
// posture-recent-grants) for tenant and returns the findings, most severe
// first.
func Audit(ctx context.Context, st *chstore.Store, tenant string, opt AuditOptions) ([]Finding, error) {
	asOf := timeParam(opt.AsOf)
	p := func(days int) map[string]string {
		return map[string]string{"tenant": tenant, "as_of": asOf, "days": strconv.Itoa(days)}
	}
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	var out []Finding
	reported := map[string]bool{} // user id and right the grant-event rule reported
	err := each(ctx, st, "posture-ghost-accounts", p(opt.GhostDays), func(scan func(...any) error) error {
		var account, userID, name, person, status string
		var events uint64
		var last time.Time
		var left *time.Time
		if err := scan(&account, &userID, &name, &events, &last, &person, &status, &left); err != nil {
			return err
		}
		ev := fmt.Sprintf("%d successful events in the last %d days, the last at %s; ", events, opt.GhostDays, ts(last))
		if status == "removed" {
			ev += "the account is in no entry of the newest directory snapshot, though an earlier one had it"
		} else {
			ev += "the directory says person " + person + " left"
			if left != nil {
				ev += " on " + day(*left)
			}
		}
		out = append(out, Finding{Kind: FindingGhost, Severity: "high", Account: account, UserName: name, Target: userID, Evidence: ev,
			Fix: "Deactivate the account in the CRM (freeze it first if it must be investigated), revoke its sessions and tokens, and find out who used it after the person left."})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, st, "posture-mfa-disabled", map[string]string{"tenant": tenant, "as_of": asOf}, func(scan func(...any) error) error {
		var account, last, by string
		var at time.Time
		if err := scan(&account, &last, &at, &by); err != nil {
			return err
		}
		out = append(out, Finding{Kind: FindingMFADisabled, Severity: "high", Account: account, Target: account,
			Evidence: fmt.Sprintf("MFA disabled at %s by %s and not enabled since, as the source reports", ts(at), by),
			Fix:      "Enable MFA for the account (or enforce it in the org's session settings) and confirm with its owner why it was turned off."})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, st, "posture-shared-accounts", p(opt.SharedDays), func(scan func(...any) error) error {
		var userID, name string
		var logins, countries, devices uint64
		var roleLike bool
		if err := scan(&userID, &name, &logins, &countries, &devices, &roleLike); err != nil {
			return err
		}
		ev := fmt.Sprintf("%d successful logins in the last %d days; at most %d countries and %d devices within one hour", logins, opt.SharedDays, countries, devices)
		if roleLike {
			ev += "; the login name is role-like, not a person's"
		}
		out = append(out, Finding{Kind: FindingShared, Severity: "medium", Account: userID, UserName: name, Target: userID, Evidence: ev,
			Fix: "Give each person their own account (integrations an integration user), then disable the shared one; until then require MFA and restrict login IP ranges."})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, st, "posture-over-privileged", p(opt.PrivilegeDays), func(scan func(...any) error) error {
		var userID, name, perm, kind string
		var granted time.Time
		var exports, admin uint64
		if err := scan(&userID, &name, &perm, &kind, &granted, &exports, &admin); err != nil {
			return err
		}
		use := "no export"
		if kind == "admin" {
			use = "no permission or configuration change"
		}
		reported[userID+"\x00"+strings.ToLower(perm)] = true
		out = append(out, Finding{Kind: FindingOverPrivileged, Severity: "medium", Account: userID, UserName: name, Target: userID,
			Evidence: fmt.Sprintf("holds %s (%s right, granted %s) and made %s in the last %d days", perm, kind, day(granted), use, opt.PrivilegeDays),
			Fix:      "Revoke " + perm + " (or move it to a permission set granted only when needed)."})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, st, "posture-dormant-accounts", p(opt.DormantDays), func(scan func(...any) error) error {
		var account, userID, name string
		var lastLogin, first, last time.Time
		var logins uint64
		if err := scan(&account, &userID, &name, &lastLogin, &logins, &first, &last); err != nil {
			return err
		}
		ev := fmt.Sprintf("no successful login in the last %d days", opt.DormantDays)
		if logins > 0 {
			ev += "; the last at " + ts(lastLogin)
		} else {
			ev += "; no login stored since it was first seen at " + ts(first)
		}
		out = append(out, Finding{Kind: FindingDormant, Severity: "low", Account: account, UserName: name, Target: userID, Evidence: ev,
			Fix: "Confirm with the owner or manager that the account is still needed; otherwise deactivate it."})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if opt.TopExporters > 0 {
		err = each(ctx, st, "exports-by-person", map[string]string{"tenant": tenant, "to": asOf,
			"from": timeParam(opt.AsOf.Add(-time.Duration(opt.ExportDays) * 24 * time.Hour)), "limit": strconv.Itoa(opt.TopExporters)},
			func(scan func(...any) error) error {
				var person, name string
				var exports, records, largest uint64
				var last time.Time
				if err := scan(&person, &name, &exports, &records, &largest, &last); err != nil {
					return err
				}
				out = append(out, Finding{Kind: FindingTopExporter, Severity: "info", Account: person, UserName: name,
					Evidence: fmt.Sprintf("%d exports of %d records in the last %d days, the largest %d, the last at %s", exports, records, opt.ExportDays, largest, ts(last)),
					Fix:      "Confirm the exports match the person's job; restrict export rights to those who need them."})
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	snap, err := snapshotFindings(ctx, st, tenant, opt, reported)
	if err != nil {
		return nil, err
	}
	out = append(out, snap...)
	sort.SliceStable(out, func(i, j int) bool { return severityRank(out[i].Severity) < severityRank(out[j].Severity) })
	return out, nil
}

// each runs a named query and calls fn for each row.
func each(ctx context.Context, st *chstore.Store, name string, params map[string]string, fn func(scan func(...any) error) error) error {
	rows, err := queries.Run(ctx, st, name, params)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

// WriteFindings renders findings as json (one document), html (the
// report page format: self-contained, printable) or a table.
func WriteFindings(w io.Writer, tenant string, asOf time.Time, fs []Finding, format string) error {
	if format == "html" {
		r := &report.Result{Name: "posture-audit", Title: "CRM security posture audit", Tenant: tenant, To: asOf.UTC(), GeneratedAt: asOf.UTC(),
			Description: "Ghost, dormant, over-privileged and shared accounts, MFA, connected apps and the biggest exporters, from the stored activity, the directory snapshots and the permissions snapshot when given.",
			Sections:    []report.SectionResult{{Title: "Findings", Query: "posture-*", Columns: []string{"severity", "kind", "account", "name", "evidence", "fix"}}}}
		for _, f := range fs {
			r.Sections[0].Rows = append(r.Sections[0].Rows, []string{f.Severity, f.Kind, f.Account, f.UserName, f.Evidence, f.Fix})
		}
		return r.WriteHTML(w)
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if fs == nil {
			fs = []Finding{}
		}
		return enc.Encode(map[string]any{"tenant": tenant, "as_of": asOf.UTC(), "findings": fs})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Posture audit of %s as of %s: %d findings\n\nseverity\tkind\taccount\tname\tevidence\n", tenant, ts(asOf), len(fs))
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Severity, f.Kind, f.Account, f.UserName, f.Evidence)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fs) > 0 {
		fmt.Fprintln(w, "\nRecommended fixes:")
		seen := map[string]bool{}
		for _, f := range fs {
			if !seen[f.Kind+f.Fix] {
				seen[f.Kind+f.Fix] = true
				fmt.Fprintf(w, "  %s: %s\n", f.Kind, f.Fix)
			}
		}
	}
	return nil
}
