package respond

import (
	"path"
	"strings"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// protection is the compiled union of the global and a tenant's protected
// accounts.
type protection struct {
	ids      map[string]bool
	patterns []string // lower case
	types    map[string]bool
	unknown  string
}

func newProtection(global, tenant Protected) protection {
	p := protection{ids: map[string]bool{}, types: map[string]bool{}, unknown: global.Unknown}
	if tenant.Unknown != "" {
		p.unknown = tenant.Unknown
	}
	if p.unknown == "" {
		p.unknown = UnknownApproval
	}
	for _, pr := range []Protected{global, tenant} {
		for _, id := range pr.AccountIDs {
			p.ids[id] = true
		}
		for _, pat := range pr.NamePatterns {
			p.patterns = append(p.patterns, strings.ToLower(pat))
		}
		for _, t := range pr.UserTypes {
			p.types[strings.ToLower(t)] = true
		}
	}
	return p
}

// check says whether a's target is protected (and why), or whether it
// cannot tell because the action lacks the name or type a configured
// pattern needs.
func (p protection) check(a alert.Action) (protected, unsure bool, why string) {
	if p.matchID(a.Target) {
		return true, false, "account " + a.Target + " is a protected account"
	}
	name := strings.ToLower(a.TargetName)
	for _, pat := range p.patterns {
		if name != "" {
			if ok, _ := path.Match(pat, name); ok {
				return true, false, "account name matches protected pattern " + pat
			}
		}
	}
	if a.TargetType != "" && p.types[strings.ToLower(a.TargetType)] {
		return true, false, "accounts of type " + a.TargetType + " are protected"
	}
	if p.unknown == UnknownApproval {
		switch {
		case len(p.patterns) > 0 && a.TargetName == "":
			return false, true, "the action has no target_name, so protected name patterns cannot be ruled out"
		case len(p.types) > 0 && a.TargetType == "":
			return false, true, "the action has no target_type, so protected user types cannot be ruled out"
		}
	}
	return false, false, ""
}

// matchID matches exactly, or a 15-character Salesforce id against its
// 18-character form (the last three characters are a case checksum).
func (p protection) matchID(id string) bool {
	if id == "" {
		return false
	}
	if p.ids[id] {
		return true
	}
	switch len(id) {
	case 18:
		return p.ids[id[:15]]
	case 15:
		for k := range p.ids {
			if len(k) == 18 && k[:15] == id {
				return true
			}
		}
	}
	return false
}
