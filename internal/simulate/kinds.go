package simulate

import (
	"sort"
	"time"
)

// kind is a kind of episode: an attack the pack must detect, or a benign
// look-alike it must not fire on.
type kind struct {
	name   string
	class  string
	rule   string // attack: the rule that detects it; benign: the rule it imitates
	timing timing
	who    func(p *person) bool // who can be its subject
	gen    func(g *gen, e *episode)
	// auto kinds are labelled by the background (integration runs), not
	// planned.
	auto bool
	// hard kinds are look-alikes the rule cannot tell from the attack; they
	// are planned a seventh as often as the others.
	hard bool
	// month kinds need a month of silence before them, which only a
	// history of 35 days or more holds (not --live's six days).
	month bool
	// history kinds need the subject to have a past (a country and device
	// history, an account that went quiet): they get a leaver or a person
	// known since the history began.
	doc string
}

// timing is when in a day an episode can happen, in the subject's zone.
type timing int

const (
	anyTime     timing = iota
	workHours          // a working day, within the subject's hours
	offHours           // outside the tenant's working hours or on a day off
	evening            // 19:00 to 22:00 on any day
	lateEvening        // a working day, 19:45 to 21:45
)

// kinds is the registry, in the order episodes are planned.
var kinds = []*kind{
	// Attacks: one per detection of the pack.
	{name: "credential_stuffing", class: ClassAttack, rule: "auth.failed_logins_many_countries", timing: anyTime, who: human, gen: genCredentialStuffing,
		doc: "failed logins for one account from proxies in three to six countries within minutes"},
	{name: "account_takeover", class: ClassAttack, rule: "auth.success_after_failures", timing: anyTime, who: human, gen: genAccountTakeover,
		doc: "nine to sixteen failed logins from one country, then a success and a look around"},
	{name: "offhours_export", class: ClassAttack, rule: "export.off_hours_bulk_by_human", timing: offHours, who: exporter, gen: genOffHoursExport,
		doc: "a person exports 6,000 to 60,000 records at night or on a day off, in their own time zone"},
	{name: "record_tampering", class: ClassAttack, rule: "data.rapid_sensitive_field_changes", timing: anyTime, who: recordWorker, gen: genRecordTampering,
		doc: "three to six changes to one customer's address, bank or e-mail fields within half an hour"},
	{name: "mass_deletion", class: ClassAttack, rule: "data.mass_deletion", timing: anyTime, who: recordWorker, gen: genMassDeletion,
		doc: "hundreds of records deleted by one person in minutes, one by one or in bulk"},
	{name: "self_grant", class: ClassAttack, rule: "perm.self_granted_privilege", timing: anyTime, who: granter, gen: genSelfGrant,
		doc: "an account grants itself a privileged permission set"},
	{name: "nonadmin_grants_admin", class: ClassAttack, rule: "perm.non_admin_grants_admin", timing: anyTime, who: delegatedAdmin, gen: genNonAdminGrantsAdmin,
		doc: "a delegated (non-admin) account grants administrator rights to another account"},
	{name: "impossible_travel", class: ClassAttack, rule: "auth.impossible_travel", timing: workHours, who: human, gen: genImpossibleTravel,
		doc: "the person logs in at home, and their account logs in from another continent within hours"},
	{name: "mfa_off_export", class: ClassAttack, rule: "seq.mfa_disabled_then_export", timing: workHours, who: human, gen: genMFAOffExport,
		doc: "MFA switched off in one CRM, then hundreds or thousands of records exported, from the other CRM where there is one"},
	{name: "audit_tampering", class: ClassAttack, rule: "audit.tampering", timing: anyTime, who: admin, gen: genAuditTampering,
		doc: "an administrator account switches auditing off or shortens the audit retention"},
	{name: "record_scraping", class: ClassAttack, rule: "data.record_scraping", timing: anyTime, who: human, gen: genRecordScraping,
		doc: "250 to 800 distinct records viewed by a script in under five minutes"},
	{name: "new_country", class: ClassAttack, rule: "auth.new_country", timing: anyTime, who: human, gen: genNewCountry,
		doc: "a successful login from a country the account never used, on a device it never used"},
	{name: "dormant_account", class: ClassAttack, rule: "auth.dormant_account_active", timing: anyTime, who: nobody, gen: genDormantAccount, month: true,
		doc: "the account of someone who left over a month ago logs in and reads or exports records"},
	{name: "shared_credentials", class: ClassAttack, rule: "auth.one_login_many_ips", timing: anyTime, who: human, gen: genSharedCredentials,
		doc: "one login name signs in from five to nine addresses within minutes"},
	{name: "risky_app_connect", class: ClassAttack, rule: "integration.broad_scope_app_connect", timing: workHours, who: human, gen: genRiskyAppConnect,
		doc: "a non-admin connects a third-party app, or an admin connects one with the run of the CRM"},

	// Benign look-alikes.
	{name: "travel", class: ClassBenign, rule: "auth.impossible_travel", timing: workHours, who: traveller, gen: genTravel,
		doc: "a business trip on a plausible flight, to a usual destination or a new one, with the person's own devices"},
	{name: "vpn_login", class: ClassBenign, rule: "auth.impossible_travel", timing: workHours, who: human, gen: genVPNLogin,
		doc: "a login through the corporate VPN, whose exit geolocates to another continent, minutes after a login at home"},
	{name: "quarter_end_export", class: ClassBenign, rule: "export.off_hours_bulk_by_human", timing: workHours, who: finance, gen: genQuarterEndExport,
		doc: "finance exports tens of thousands of records in office hours"},
	{name: "password_reset", class: ClassBenign, rule: "auth.success_after_failures", timing: workHours, who: human, gen: genPasswordReset,
		doc: "two to six failed logins from home, a self-service password reset, then a success"},
	{name: "new_hire_grant", class: ClassBenign, rule: "perm.self_granted_privilege", timing: workHours, who: admin, gen: genNewHireGrant,
		doc: "an admin grants a new hire an ordinary role (or a new admin the admin role); the hire logs in and enrols MFA"},
	{name: "support_browsing", class: ClassBenign, rule: "data.record_scraping", timing: workHours, who: supportAgent, gen: genSupportBrowsing,
		doc: "a support agent works through 60 to 150 cases at a human pace"},
	{name: "mobile_hopping", class: ClassBenign, rule: "auth.one_login_many_ips", timing: evening, who: phoneOwner, gen: genMobileHopping,
		doc: "a phone logs in again and again while moving between wifi and two cell networks"},
	{name: "admin_app_connect", class: ClassBenign, rule: "integration.broad_scope_app_connect", timing: workHours, who: admin, gen: genAdminAppConnect,
		doc: "an admin connects a narrowly scoped app"},
	{name: "bulk_cleanup", class: ClassBenign, rule: "data.mass_deletion", timing: workHours, who: steward, gen: genBulkCleanup,
		doc: "a data steward deletes 40 to 150 duplicates over an hour"},
	{name: "customer_move", class: ClassBenign, rule: "data.rapid_sensitive_field_changes", timing: workHours, who: recordWorker, gen: genCustomerMove,
		doc: "a customer moves: one update of the address fields, sometimes a new e-mail later"},
	{name: "audit_strengthened", class: ClassBenign, rule: "audit.tampering", timing: workHours, who: admin, gen: genAuditStrengthened,
		doc: "an admin lengthens audit retention or switches field history on"},
	{name: "mfa_reenrol", class: ClassBenign, rule: "seq.mfa_disabled_then_export", timing: workHours, who: human, gen: genMFAReenrol,
		doc: "a person with a new phone switches MFA off and on again, and exports a small list"},
	// Hard look-alikes: benign, but indistinguishable by the rule's own
	// evidence. They are rarer, and the alerts they draw are counted as
	// false alarms: the pack's known blind spots, measured rather than
	// hidden.
	{name: "late_export", class: ClassBenign, rule: "export.off_hours_bulk_by_human", timing: lateEvening, who: exporter, gen: genLateExport, hard: true,
		doc: "hard: a person finishing a report late exports 5,500 to 15,000 records just after the calendar's working hours"},
	{name: "leave_return", class: ClassBenign, rule: "auth.dormant_account_active", timing: workHours, who: human, gen: genLeaveReturn, hard: true, month: true,
		doc: "hard: a person back from over a month of parental leave logs in again"},
	{name: "integration_export", class: ClassBenign, rule: "export.off_hours_bulk_by_human", auto: true,
		doc: "an integration account's nightly extract (and Sunday backup) of hundreds of thousands of records"},
	{name: "integration_sync", class: ClassBenign, rule: "data.record_scraping", auto: true,
		doc: "an integration account's hourly sync: 40 to 150 records read and enriched in a minute or two"},
	{name: "integration_purge", class: ClassBenign, rule: "data.mass_deletion", auto: true,
		doc: "an integration account's nightly purge of stale leads in bulk deletes of hundreds"},
}

func kindByName(name string) *kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	return nil
}

// KindNames lists the episode kinds, attacks first.
func KindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name
	}
	return out
}

// KindInfo describes a kind for documentation and scoring.
type KindInfo struct {
	Name, Class, Rule, Doc string
}

// Kinds describes every episode kind, attacks first, then look-alikes.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(kinds))
	for i, k := range kinds {
		out[i] = KindInfo{k.name, k.class, k.rule, k.doc}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Class == ClassAttack && out[j].Class != ClassAttack })
	return out
}

// Who may be the subject of an episode.
func human(p *person) bool { return p.typ == "human" }
func nobody(*person) bool  { return false }
func isAdmin(p *person) bool {
	return p.role == "crm_admin" || p.role == "system_administrator"
}
func admin(p *person) bool { return human(p) && isAdmin(p) }
func exporter(p *person) bool {
	switch p.role {
	case "sales_rep", "sales_manager", "marketing_specialist", "finance_analyst", "analyst", "executive", "support_lead":
		return true
	}
	return false
}
func recordWorker(p *person) bool {
	switch p.dept {
	case "sales", "support", "operations":
		return true
	}
	return false
}
func granter(p *person) bool { return human(p) && (isAdmin(p) || delegatedAdmin(p)) }
func delegatedAdmin(p *person) bool {
	return p.role == "support_lead" || p.role == "sales_manager" || p.role == "data_steward"
}
func traveller(p *person) bool    { return p.traveller && len(p.dests) > 0 }
func finance(p *person) bool      { return p.role == "finance_analyst" || p.role == "analyst" }
func supportAgent(p *person) bool { return p.role == "support_agent" }
func phoneOwner(p *person) bool   { return human(p) && p.phone != nil }
func steward(p *person) bool      { return p.role == "data_steward" }

// pickTime picks when an episode of this timing happens on local day d of
// the subject; ok is false when the day does not allow it (workHours on a
// day off).
func (w *world) pickTime(k *kind, p *person, d int, g *gen) (time.Time, bool) {
	date := w.localDate(d, p.zone)
	working := p.t.workingDay(date)
	day := func(fromMin, toMin int) time.Time {
		return date.Add(time.Duration(fromMin)*time.Minute + time.Duration(g.r.IntN(max(1, (toMin-fromMin)*60)))*time.Second)
	}
	switch k.timing {
	case workHours:
		if !working {
			return time.Time{}, false
		}
		return day(p.startMin+30, p.startMin+p.lenMin-90), true
	case offHours:
		if !working && g.r.IntN(2) == 0 {
			return day(10*60, 17*60), true
		}
		if g.r.IntN(2) == 0 {
			return day(22*60, 23*60+30), true
		}
		return day(30, 4*60), true
	case evening:
		return day(19*60, 21*60+30), true
	case lateEvening:
		if !working {
			return time.Time{}, false
		}
		return day(19*60+45, 21*60+45), true
	}
	return day(0, 23*60+30), true
}

// fitsAt says whether ts suits an episode of this timing for p (live
// mode, where the time is fixed and the subject is chosen to fit).
func (k *kind) fitsAt(p *person, ts time.Time) bool {
	local := ts.In(p.zone)
	min := local.Hour()*60 + local.Minute()
	working := p.t.workingDay(time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, p.zone))
	switch k.timing {
	case workHours:
		return working && min >= p.startMin+10 && min <= p.startMin+p.lenMin-60
	case offHours:
		return !working || min >= 22*60 || min < 4*60
	case evening:
		return min >= 19*60 && min < 22*60
	case lateEvening:
		return working && min >= 19*60+45 && min < 21*60+45
	}
	return true
}
