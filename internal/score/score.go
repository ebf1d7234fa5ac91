// Package score grades alerts against a labels file: per attack kind, how
// many episodes an alert of the kind's rule caught (recall) and how soon
// (detection delay); per rule and overall, how many alerts point at an
// attack (precision); per benign look-alike, which alerts it drew.
//
// An alert matches an episode when all of these hold:
//   - same tenant, and
//   - its evidence (event_ids) shares an event with the episode, or
//   - its rule is the episode's rule, one of its group values is one of the
//     episode's subjects (person key, account ids, login name, record id),
//     and its triggered_at lies within the episode's span widened by the
//     slack (default one hour) on both sides.
//
// Shared evidence needs no time bound: an alert built on an attack's
// events is about that attack, even when the event that completed it came
// hours later (the victim's next login after an attacker's, for impossible
// travel).
//
// An alert that matches an attack episode is a true positive, whatever its
// rule: it points at attack activity (an account takeover rightly fires the
// new-country rule too). Every other alert is a false positive, attributed
// to the benign episodes it matches, or else to the unlabelled background.
// An attack episode is detected when an alert of its own rule matches it;
// its delay is that alert's triggered_at minus the episode's start, in
// event time.
package score

import (
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Options tune matching.
type Options struct {
	// Slack widens each episode's span on both sides (default 1h).
	Slack time.Duration
}

// Report is the outcome.
type Report struct {
	Kinds  []KindScore   `json:"kinds"`  // attack kinds, in label order of first appearance
	Benign []BenignScore `json:"benign"` // benign kinds
	Rules  []RuleScore   `json:"rules"`  // every rule that raised an alert
	// Alerts is every alert; True those matching an attack episode;
	// FalseBenign those matching only benign episodes; FalseUnlabelled the
	// rest.
	Alerts          int     `json:"alerts"`
	True            int     `json:"true_positives"`
	FalseBenign     int     `json:"false_positives_benign"`
	FalseUnlabelled int     `json:"false_positives_unlabelled"`
	Precision       float64 `json:"precision"`
	// Missed are attack episodes no alert of their rule matched; FalseAlarms
	// the false positives; both in time order.
	Missed      []simulate.Label `json:"missed,omitempty"`
	FalseAlarms []FalseAlarm     `json:"false_alarms,omitempty"`
}

// KindScore is one attack kind.
type KindScore struct {
	Kind      string  `json:"kind"`
	Rule      string  `json:"rule"`
	Episodes  int     `json:"episodes"`
	Detected  int     `json:"detected"`
	Recall    float64 `json:"recall"`
	Alerts    int     `json:"alerts"` // alerts of the rule
	True      int     `json:"true_positives"`
	Precision float64 `json:"precision"`
	// DelayP50 and DelayMax are over detected episodes.
	DelayP50 time.Duration `json:"delay_p50"`
	DelayMax time.Duration `json:"delay_max"`
}

// BenignScore is one benign kind: its episodes and the false alarms they
// drew.
type BenignScore struct {
	Kind     string         `json:"kind"`
	Imitates string         `json:"imitates"`
	Episodes int            `json:"episodes"`
	Alerted  int            `json:"alerted"` // episodes with at least one alert
	Alerts   int            `json:"alerts"`  // false alarms attributed to the kind
	ByRule   map[string]int `json:"by_rule,omitempty"`
}

// RuleScore is one rule's alerts.
type RuleScore struct {
	Rule      string  `json:"rule"`
	Alerts    int     `json:"alerts"`
	True      int     `json:"true_positives"`
	Precision float64 `json:"precision"`
}

// FalseAlarm is an alert that matched no attack.
type FalseAlarm struct {
	Alert    string   `json:"alert"`
	Rule     string   `json:"rule"`
	Tenant   string   `json:"tenant"`
	At       string   `json:"triggered_at"`
	Summary  string   `json:"summary"`
	Episodes []string `json:"episodes,omitempty"` // the benign episodes it matched
}

// Score grades alerts against labels.
func Score(labels []simulate.Label, alerts []alert.Alert, opt Options) *Report {
	if opt.Slack <= 0 {
		opt.Slack = time.Hour
	}
	byEvent := map[string][]int{}
	bySubject := map[string][]int{}
	for i := range labels {
		l := &labels[i]
		for _, id := range l.Events {
			byEvent[l.Tenant+"\x00"+id] = append(byEvent[l.Tenant+"\x00"+id], i)
		}
		for _, s := range l.Subjects() {
			k := l.Tenant + "\x00" + s
			if n := len(bySubject[k]); n == 0 || bySubject[k][n-1] != i {
				bySubject[k] = append(bySubject[k], i)
			}
		}
	}
	matches := func(a *alert.Alert) []int {
		seen := map[int]bool{}
		var out []int
		in := func(l *simulate.Label) bool {
			return !a.TriggeredAt.Before(l.Start.Add(-opt.Slack)) && !a.TriggeredAt.After(l.End.Add(opt.Slack))
		}
		for _, id := range a.EventIDs {
			for _, i := range byEvent[a.Tenant+"\x00"+id] {
				if !seen[i] {
					seen[i] = true
					out = append(out, i)
				}
			}
		}
		for _, v := range a.Group {
			for _, i := range bySubject[a.Tenant+"\x00"+v] {
				if !seen[i] && labels[i].Rule == a.Rule.ID && in(&labels[i]) {
					seen[i] = true
					out = append(out, i)
				}
			}
		}
		sort.Ints(out)
		return out
	}

	rep := &Report{Alerts: len(alerts)}
	detected := map[int]time.Duration{} // attack label → delay of its first own-rule alert
	benignAlerts := map[int]int{}
	benignByRule := map[int]map[string]int{}
	rules := map[string]*RuleScore{}
	for i := range alerts {
		a := &alerts[i]
		rs := rules[a.Rule.ID]
		if rs == nil {
			rs = &RuleScore{Rule: a.Rule.ID}
			rules[a.Rule.ID] = rs
		}
		rs.Alerts++
		var attack, benign []int
		for _, li := range matches(a) {
			if labels[li].Class == simulate.ClassAttack {
				attack = append(attack, li)
			} else {
				benign = append(benign, li)
			}
		}
		for _, li := range attack {
			if labels[li].Rule != a.Rule.ID {
				continue
			}
			d := a.TriggeredAt.Sub(labels[li].Start)
			if old, ok := detected[li]; !ok || d < old {
				detected[li] = d
			}
		}
		if len(attack) > 0 {
			rep.True++
			rs.True++
			continue
		}
		fa := FalseAlarm{Alert: a.ID, Rule: a.Rule.ID, Tenant: a.Tenant, At: a.TriggeredAt.UTC().Format(time.RFC3339), Summary: a.Summary}
		if len(benign) > 0 {
			rep.FalseBenign++
			for _, li := range benign {
				fa.Episodes = append(fa.Episodes, labels[li].Episode)
				benignAlerts[li]++
				if benignByRule[li] == nil {
					benignByRule[li] = map[string]int{}
				}
				benignByRule[li][a.Rule.ID]++
			}
		} else {
			rep.FalseUnlabelled++
		}
		rep.FalseAlarms = append(rep.FalseAlarms, fa)
	}
	rep.Precision = ratio(rep.True, rep.Alerts)

	kinds := map[string]*KindScore{}
	var korder []string
	benignKinds := map[string]*BenignScore{}
	var border []string
	delays := map[string][]time.Duration{}
	for i := range labels {
		l := &labels[i]
		if l.Class == simulate.ClassAttack {
			ks := kinds[l.Kind]
			if ks == nil {
				ks = &KindScore{Kind: l.Kind, Rule: l.Rule}
				kinds[l.Kind] = ks
				korder = append(korder, l.Kind)
			}
			ks.Episodes++
			if d, ok := detected[i]; ok {
				ks.Detected++
				delays[l.Kind] = append(delays[l.Kind], d)
			} else {
				rep.Missed = append(rep.Missed, *l)
			}
			continue
		}
		bs := benignKinds[l.Kind]
		if bs == nil {
			bs = &BenignScore{Kind: l.Kind, Imitates: l.Rule, ByRule: map[string]int{}}
			benignKinds[l.Kind] = bs
			border = append(border, l.Kind)
		}
		bs.Episodes++
		if n := benignAlerts[i]; n > 0 {
			bs.Alerted++
			bs.Alerts += n
			for r, c := range benignByRule[i] {
				bs.ByRule[r] += c
			}
		}
	}
	order := map[string]int{}
	for i, k := range simulate.KindNames() {
		order[k] = i + 1
	}
	byRegistry := func(ks []string) {
		sort.SliceStable(ks, func(i, j int) bool {
			oi, oj := order[ks[i]], order[ks[j]]
			if oi != oj && oi != 0 && oj != 0 {
				return oi < oj
			}
			if (oi == 0) != (oj == 0) {
				return oi != 0
			}
			return ks[i] < ks[j]
		})
	}
	byRegistry(korder)
	byRegistry(border)
	for _, k := range korder {
		ks := kinds[k]
		ks.Recall = ratio(ks.Detected, ks.Episodes)
		if rs := rules[ks.Rule]; rs != nil {
			ks.Alerts, ks.True = rs.Alerts, rs.True
		}
		ks.Precision = ratio(ks.True, ks.Alerts)
		if ds := delays[k]; len(ds) > 0 {
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			ks.DelayP50, ks.DelayMax = ds[(len(ds)-1)/2], ds[len(ds)-1]
		}
		rep.Kinds = append(rep.Kinds, *ks)
	}
	for _, k := range border {
		rep.Benign = append(rep.Benign, *benignKinds[k])
	}
	for _, rs := range rules {
		rs.Precision = ratio(rs.True, rs.Alerts)
		rep.Rules = append(rep.Rules, *rs)
	}
	sort.Slice(rep.Rules, func(i, j int) bool { return rep.Rules[i].Rule < rep.Rules[j].Rule })
	sort.SliceStable(rep.FalseAlarms, func(i, j int) bool { return rep.FalseAlarms[i].At < rep.FalseAlarms[j].At })
	return rep
}

// ratio is a/b, and 1 when there is nothing to count (no episodes missed,
// no alert wrong).
func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
