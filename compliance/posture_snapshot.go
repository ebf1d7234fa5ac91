package compliance

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
)

// Finding kinds read from a permissions snapshot.
const (
	FindingNoMFA          = "account_without_mfa"
	FindingAppUnused      = "app_unused"
	FindingAppBroadScopes = "app_broad_scopes"
)

var (
	exportRight = regexp.MustCompile(`export`)
	adminRight  = regexp.MustCompile(`admin|modify ?all|manage ?users|customize|view ?all ?data|author ?apex`)
)

// rightKind classifies a right as the posture-over-privileged query does:
// export, admin, or "" for rights the audit does not judge.
func rightKind(right string) string {
	r := strings.ToLower(right)
	switch {
	case exportRight.MatchString(r):
		return "export"
	case adminRight.MatchString(r):
		return "admin"
	}
	return ""
}

// broadScope says why an OAuth scope is broad by itself, or "" when it is
// not. The list is documented in docs/COMPLIANCE.md: full (Salesforce:
// everything the user can reach), * and scopes ending in .* or /*
// (wildcards), any scope naming admin, user_impersonation (Dynamics 365 /
// Entra: acts as the user with all their rights), settings.users.write
// (HubSpot: manages users) and crm.export (HubSpot: bulk export).
// BroadScopes adds api or full together with refresh_token or
// offline_access (API access that does not expire).
func broadScope(scope string) string {
	s := strings.ToLower(strings.TrimSpace(scope))
	switch {
	case s == "full":
		return "full access to everything the user can reach"
	case s == "*" || strings.HasSuffix(s, ".*") || strings.HasSuffix(s, "/*"):
		return "a wildcard"
	case strings.Contains(s, "admin"):
		return "an administration scope"
	case s == "user_impersonation":
		return "acts as the user with all their rights"
	case s == "settings.users.write":
		return "manages users"
	case s == "crm.export":
		return "bulk export of CRM data"
	}
	return ""
}

// BroadScopes returns the app's broad scopes, each with why.
func BroadScopes(scopes []string) []string {
	var out []string
	has := map[string]bool{}
	for _, s := range scopes {
		has[strings.ToLower(strings.TrimSpace(s))] = true
	}
	for _, s := range sortedScopes(scopes) {
		if why := broadScope(s); why != "" {
			out = append(out, s+" ("+why+")")
		}
	}
	if (has["api"] || has["full"]) && (has["refresh_token"] || has["offline_access"]) {
		access, long := "api", "refresh_token"
		if !has["api"] {
			access = "full"
		}
		if !has["refresh_token"] {
			long = "offline_access"
		}
		out = append(out, access+" + "+long+" (API access that does not expire)")
	}
	return out
}

// accountUsage is one row of posture-account-usage.
type accountUsage struct {
	logins, exports, admin uint64
	lastLogin, firstSeen   time.Time
}

// snapshotFindings are the findings of a permissions snapshot: connected
// apps unused or holding broad scopes, accounts without MFA, and rights
// held but unused per the stored activity (over-privilege), skipping the
// rights the grant-event rule already reported (done: user id and lower-
// case right).
func snapshotFindings(ctx context.Context, st *chstore.Store, tenant string, opt AuditOptions, done map[string]bool) ([]Finding, error) {
	p := opt.Permissions
	var out []Finding
	if p == nil {
		return nil, nil
	}
	asOf := timeParam(opt.AsOf)
	usage := map[string]accountUsage{}
	trailStart := map[string]time.Time{}
	err := each(ctx, st, "posture-account-usage", map[string]string{"tenant": tenant, "as_of": asOf, "days": strconv.Itoa(opt.PrivilegeDays)},
		func(scan func(...any) error) error {
			var system, user string
			var u accountUsage
			if err := scan(&system, &user, &u.logins, &u.exports, &u.admin, &u.lastLogin, &u.firstSeen); err != nil {
				return err
			}
			usage[system+":"+user] = u
			if s, ok := trailStart[system]; !ok || u.firstSeen.Before(s) {
				trailStart[system] = u.firstSeen
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	recent := map[string]bool{}
	err = each(ctx, st, "posture-recent-grants", map[string]string{"tenant": tenant, "as_of": asOf, "days": strconv.Itoa(opt.PrivilegeDays)},
		func(scan func(...any) error) error {
			var system, user, perm string
			var at time.Time
			if err := scan(&system, &user, &perm, &at); err != nil {
				return err
			}
			recent[system+":"+user+"\x00"+strings.ToLower(perm)] = true
			return nil
		})
	if err != nil {
		return nil, err
	}
	privWindow := opt.AsOf.Add(-time.Duration(opt.PrivilegeDays) * 24 * time.Hour)

	for _, a := range p.Accounts {
		if !a.Active {
			continue
		}
		u := usage[a.Account()]
		var privileged []string
		for _, r := range a.Rights {
			if rightKind(r) != "" {
				privileged = append(privileged, r)
			}
		}
		if a.MFAEnabled != nil && !*a.MFAEnabled && (a.MFAEnforced == nil || !*a.MFAEnforced) {
			sev, ev := "medium", "the permissions snapshot says MFA is neither enabled nor enforced for this active account"
			if len(privileged) > 0 {
				sev = "high"
				ev += "; it holds " + strings.Join(privileged, ", ")
			}
			ev += fmt.Sprintf("; %d successful logins stored in the last %d days, each without MFA as the snapshot tells it", u.logins, opt.PrivilegeDays)
			if a.LastLogin != nil {
				ev += "; the vendor's last login " + ts(*a.LastLogin)
			}
			out = append(out, Finding{Kind: FindingNoMFA, Severity: sev, Account: a.Account(), UserName: a.Name, Target: a.UserID, Evidence: ev,
				Fix: "Enable MFA for the account, or enforce it for its profile or permission set (with single sign-on, require MFA at the identity provider and verify the CRM accepts only SSO logins)."})
		}
		start, covered := trailStart[a.System]
		if !covered || start.After(privWindow) {
			continue // the stored trail is too short to say a right went unused
		}
		for _, r := range privileged {
			kind := rightKind(r)
			if done[a.UserID+"\x00"+strings.ToLower(r)] || recent[a.Account()+"\x00"+strings.ToLower(r)] {
				continue
			}
			if (kind == "export" && u.exports > 0) || (kind == "admin" && u.admin > 0) {
				continue
			}
			use := "no export"
			if kind == "admin" {
				use = "no permission or configuration change"
			}
			out = append(out, Finding{Kind: FindingOverPrivileged, Severity: "medium", Account: a.Account(), UserName: a.Name, Target: a.UserID,
				Evidence: fmt.Sprintf("holds %s (%s right, per the permissions snapshot) and made %s in the last %d days (the stored %s trail starts %s)",
					r, kind, use, opt.PrivilegeDays, a.System, ts(start)),
				Fix: "Revoke " + r + " (or move it to a permission set granted only when needed)."})
		}
	}

	unusedBefore := opt.AsOf.Add(-time.Duration(opt.AppUnusedDays) * 24 * time.Hour)
	for _, app := range p.Apps {
		key := app.System + ":app:" + app.AppID
		users := ""
		if app.Users != nil {
			users = fmt.Sprintf("; %d users", *app.Users)
		}
		if broad := BroadScopes(app.Scopes); len(broad) > 0 {
			out = append(out, Finding{Kind: FindingAppBroadScopes, Severity: "high", Account: key, UserName: app.Name, Target: app.AppID,
				Evidence: "holds broad OAuth scopes: " + strings.Join(broad, ", ") + users,
				Fix:      "Narrow the app's scopes to what it needs (no full or wildcard access; refresh tokens only with a short expiry policy), or revoke it and its tokens if nobody owns it."})
		}
		if app.LastUsed != nil && !app.LastUsed.After(unusedBefore) {
			days := int(opt.AsOf.Sub(*app.LastUsed).Hours() / 24)
			out = append(out, Finding{Kind: FindingAppUnused, Severity: "medium", Account: key, UserName: app.Name, Target: app.AppID,
				Evidence: fmt.Sprintf("last used %s, %d days before the audit (limit %d)%s; scopes %s", ts(*app.LastUsed), days, opt.AppUnusedDays, users, strings.Join(sortedScopes(app.Scopes), " ")),
				Fix:      "Revoke the app's OAuth tokens and uninstall or block it; an unused app with live tokens is an open door."})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return severityRank(out[i].Severity) < severityRank(out[j].Severity) })
	return out, nil
}

func severityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "high":
		return 1
	case "medium":
		return 2
	case "low":
		return 3
	}
	return 4
}
