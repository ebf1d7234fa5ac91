package shadow

import (
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// RuleID is the id of the rule in the shipped rule pack
// (rules/shadow.pii_in_free_text.yaml) that alerts on shadow data, through
// the detection engine's shadow_data() function over this package's Find.
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
	return walk(e, true)
}

// Find returns the hits MaskEvent would return for e (the same fields,
// the same masked samples) and leaves e as it is: the detector reads
// events it must not change. Nil when the event is clean.
func Find(e *event.Event) []Hit {
	return walk(e, false)
}

// walk scans the fields MaskEvent scans; with mask it replaces each value
// that holds a finding with its masked form.
func walk(e *event.Event, mask bool) []Hit {
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
		if mask {
			*v = masked
		}
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
	if e.Object.Name != "" && ReportName(e) {
		field("object.name", "", &e.Object.Name, Options{FreeText: true})
	}
	return hits
}

// ReportName says whether e's object.name is the name of an exported or
// run report, which MaskEvent and Find scan as free text.
func ReportName(e *event.Event) bool {
	return e.Event.Category == "export" || e.Event.Action == "report_run"
}

// Kinds are the distinct kinds of hits, sorted.
func Kinds(hits []Hit) []string {
	if len(hits) == 0 {
		return nil
	}
	m := make(map[string]bool, len(hits))
	for _, h := range hits {
		m[string(h.Kind)] = true
	}
	return sorted(m)
}

// Fields are the distinct places of hits (changes.<field>.old or .new,
// comment, object.name), sorted.
func Fields(hits []Hit) []string {
	if len(hits) == 0 {
		return nil
	}
	m := make(map[string]bool, len(hits))
	for _, h := range hits {
		m[h.Where] = true
	}
	return sorted(m)
}

// Samples describe each hit as "kind in where: masked sample", in order:
// the only form of a finding fit for an alert, a log or a page.
func Samples(hits []Hit) []string {
	if len(hits) == 0 {
		return nil
	}
	out := make([]string, 0, len(hits))
	for _, h := range hits {
		out = append(out, string(h.Kind)+" in "+h.Where+": "+h.Sample)
	}
	return out
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MaskRaw masks every finding in raw input read as free text (a rejected
// record's bytes: JSON, CSV or anything else), e-mail addresses and phone
// numbers included wherever they sit; the length stays, so sizes and
// offsets still describe the input. It returns raw itself, not a copy,
// when nothing is found.
func MaskRaw(raw []byte) []byte {
	s := string(raw)
	fs := Scan(s, Options{FreeText: true})
	if len(fs) == 0 {
		return raw
	}
	return []byte(Mask(s, fs))
}

// Misplaced keeps the hits of Find that are out of place: it drops a card
// number, IBAN, SSN or passport number in a change to a field named for
// it (CardNumber__c; IBAN, Bank_Account__c; SSN__c, TaxId; Passport_No__c),
// where it belongs. E-mails and phones in their own fields are not hits in
// the first place. The sink still masks all of them in what it stores;
// only the alert (the detector's shadow_data()) leaves them out. It
// returns hits itself when it drops nothing.
func Misplaced(hits []Hit) []Hit {
	keep := -1 // the first hit dropped, if any
	for i, h := range hits {
		if inPurposeField(h) {
			keep = i
			break
		}
	}
	if keep < 0 {
		return hits
	}
	out := append([]Hit(nil), hits[:keep]...)
	for _, h := range hits[keep+1:] {
		if !inPurposeField(h) {
			out = append(out, h)
		}
	}
	return out
}

// inPurposeField says h is in a change to a field whose name says it holds
// h's kind.
func inPurposeField(h Hit) bool {
	field, ok := strings.CutPrefix(h.Where, "changes.")
	if !ok {
		return false
	}
	field = strings.TrimSuffix(strings.TrimSuffix(field, ".old"), ".new")
	var words []string
	switch h.Kind {
	case Card:
		words = []string{"card"}
	case IBAN:
		words = []string{"iban", "bank"}
	case SSN:
		words = []string{"ssn", "social", "taxid", "tax_id"}
	case Passport:
		words = []string{"passport"}
	}
	for _, w := range words {
		if indexFold(field, w) >= 0 {
			return true
		}
	}
	return false
}
