package detect

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// List is a named list shared between rules (IP networks, users,
// countries), defined in a lists file of the rules directory and referenced
// as lists.NAME. Tenants may replace a list's items in configuration.
type List struct {
	Name        string
	Type        ListType
	Description string
	IgnoreCase  bool
	Items       []string
	File        string
	Line        int
}

// ListType is what a list holds.
type ListType string

// The list types.
const (
	ListStrings   ListType = "strings"
	ListCIDRs     ListType = "cidrs"
	ListCountries ListType = "countries"
)

// strSet is a constant string list in a compiled expression: a map, so
// expr's `in` works on it.
type strSet map[string]struct{}

// cidrList is a constant list of networks in a compiled expression.
type cidrList struct {
	prefixes []netip.Prefix
}

func (c *cidrList) contains(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range c.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseCIDR reads a network ("10.0.0.0/8") or a single address.
func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a network such as 10.0.0.0/8", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or network", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// compileList turns items into the constant an expression uses.
func compileList(l *List, items []string) (any, error) {
	switch l.Type {
	case ListCIDRs:
		c := &cidrList{}
		for _, it := range items {
			p, err := parseCIDR(it)
			if err != nil {
				return nil, err
			}
			c.prefixes = append(c.prefixes, p)
		}
		return c, nil
	case ListCountries:
		for _, it := range items {
			if !countryRE.MatchString(it) {
				return nil, fmt.Errorf("%q is not an ISO 3166-1 alpha-2 code such as US", it)
			}
		}
	}
	s := make(strSet, len(items))
	for _, it := range items {
		if l.IgnoreCase {
			it = strings.ToLower(it)
		}
		s[it] = struct{}{}
	}
	return s, nil
}

// parseLists reads a lists file: a mapping under `lists:` of names to either
// a list of items or {type, description, ignore_case, items}.
func (d *ydoc) parseLists(root *yaml.Node) []*List {
	var out []*List
	for _, kv := range d.mapping(root, "lists file", []string{"lists"}) {
		for _, lkv := range d.mapping(kv.v, "lists", nil) {
			l := &List{Name: lkv.key, Type: ListStrings, File: d.file, Line: lkv.k.Line}
			if !nameRE.MatchString(l.Name) {
				d.errorf(lkv.k, "list name %q: use lower-case letters, digits and '_'", l.Name)
				continue
			}
			if v := deref(lkv.v); v != nil && v.Kind == yaml.MappingNode {
				for _, f := range d.mapping(v, "list "+l.Name, []string{"type", "description", "ignore_case", "items"}) {
					switch f.key {
					case "type":
						l.Type = ListType(d.str(f.v, "type"))
						if l.Type != ListStrings && l.Type != ListCIDRs && l.Type != ListCountries {
							d.errorf(f.v, "list %s: type %q must be strings, cidrs or countries", l.Name, l.Type)
						}
					case "description":
						l.Description = d.str(f.v, "description")
					case "ignore_case":
						l.IgnoreCase = d.boolean(f.v, "ignore_case")
					case "items":
						l.Items = d.strList(f.v, "items")
					}
				}
			} else {
				l.Items = d.strList(lkv.v, "list "+l.Name)
			}
			if l.Type == ListCIDRs && l.IgnoreCase {
				d.errorf(lkv.k, "list %s: ignore_case applies to string lists only", l.Name)
			}
			if _, err := compileList(l, l.Items); err != nil {
				d.errorf(lkv.k, "list %s: %s", l.Name, err.Error())
			}
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
