package record

import "strings"

// CountryCode returns value as an upper-case ISO 3166-1 alpha-2 code and
// true, or "" and false when value is not two ASCII letters. Vendors send
// codes in lower case (HubSpot: "ie"); the contract wants "IE".
func CountryCode(value string) (string, bool) {
	v := strings.ToUpper(strings.TrimSpace(value))
	if len(v) == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' {
		return v, true
	}
	return "", false
}
