package shadow

import (
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// RuleID is the rule id of shadow-data alerts.
const RuleID = "shadow.pii_in_free_text"

// Hit is one finding in an event: where (changes.<field>.old or .new,
// comment, object.name), what, and a masked sample.
type Hit struct {
	Where  string `json:"where"`
	Kind   Kind   `json:"kind"`
	Sample string `json:"sample"`
}

// structuredField says a field is meant to hold an address or number
// (Email, MobilePhone, Fax__c …): e-mails and phones there are not shadow
// data; cards, SSNs, IBANs and passports still are.
func structuredField(name string) bool {
	for _, w := range []string{"mail", "phone", "mobile", "fax"} {
		if indexFold(name, w) >= 0 {
			return true
		}
	}
	return false
}

// Mask keeps the last four letters or digits of each finding in s and
// replaces the others with '*' (separators stay, so the shape shows);
// for e-mail addresses it keeps the first character and the domain.
func Mask(s string, fs []Finding) string {
	if len(fs) == 0 {
		return s
	}
	b := []byte(s)
	for _, f := range fs {
		if f.Kind == Email {
			at := strings.IndexByte(s[f.Start:f.End], '@') + f.Start
			for k := f.Start + 1; k < at; k++ {
				b[k] = '*'
			}
			continue
		}
		keep := 4
		for k := f.End - 1; k >= f.Start; k-- {
			if !isAlnum(b[k]) {
				continue
			}
			if keep > 0 {
				keep--
				continue
			}
			b[k] = '*'
		}
	}
	return string(b)
}

// MaskEvent scans the event's changes (old and new values), its comment
// and, for exports and report runs, the report's name; it masks what it
// finds in place and returns the hits (nil when the event is clean).
func MaskEvent(e *event.Event) []Hit {
	var hits []Hit
	// where is built only on a hit: the clean path allocates nothing.
	field := func(name, suffix string, v *string, opt Options) {
		fs := Scan(*v, opt)
		if len(fs) == 0 {
			return
		}
		where := name + suffix
		masked := Mask(*v, fs)
		for _, f := range fs {
			hits = append(hits, Hit{Where: where, Kind: f.Kind, Sample: masked[f.Start:f.End]})
		}
		*v = masked
	}
	for i := range e.Changes {
		c := &e.Changes[i]
		opt := Options{FreeText: !structuredField(c.Field)}
		field("changes."+c.Field, ".old", &c.Old, opt)
		field("changes."+c.Field, ".new", &c.New, opt)
	}
	if e.Comment != "" {
		field("comment", "", &e.Comment, Options{FreeText: true})
	}
	if e.Object.Name != "" && (e.Event.Category == "export" || e.Event.Action == "report_run") {
		field("object.name", "", &e.Object.Name, Options{FreeText: true})
	}
	return hits
}

// Alert describes the hits of one event as an alert of rule RuleID,
// grouped by record; its id depends only on the event, so a replay gives
// the same alert.
func Alert(e *event.Event, hits []Hit, detectedAt time.Time) alert.Alert {
	kinds := map[string]bool{}
	wheres := map[string]bool{}
	samples := make([]string, 0, len(hits))
	for _, h := range hits {
		kinds[string(h.Kind)] = true
		wheres[h.Where] = true
		samples = append(samples, string(h.Kind)+" in "+h.Where+": "+h.Sample)
	}
	group := map[string]string{"object.type": e.Object.Type, "object.id": e.Object.ID}
	at := e.Timestamp.UTC()
	return alert.Alert{
		ID:          alert.AlertID(RuleID, e.Tenant, e.Object.Type+"\x00"+e.Object.ID, e.ID),
		Rule:        alert.Rule{ID: RuleID, Version: "1", Title: "Personal data in a free-text field", Severity: "medium", Tags: []string{"privacy", "shadow_data"}},
		Tenant:      e.Tenant,
		Group:       group,
		WindowStart: at, WindowEnd: at, TriggeredAt: at, DetectedAt: detectedAt.UTC(),
		EventIDs: []string{e.ID},
		Summary:  e.User.ID + " put " + strings.Join(sorted(kinds), ", ") + " in " + strings.Join(sorted(wheres), ", ") + " of " + e.Object.Type + " " + e.Object.ID,
		Values:   map[string]any{"kinds": sorted(kinds), "fields": sorted(wheres), "samples": samples, "user.id": e.User.ID},
		Actions:  []string{},
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
