package compliance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Permissions is a CRM permissions snapshot: the accounts with their MFA
// state and rights, and the connected (OAuth) apps, as the vendor's admin
// API or an export lists them. The file format is NDJSON, one account or
// app per line (docs/COMPLIANCE.md, "Permissions snapshot").
type Permissions struct {
	Accounts []AccountGrant
	Apps     []ConnectedApp
}

// AccountGrant is one account of a permissions snapshot.
type AccountGrant struct {
	System string `json:"system"`
	UserID string `json:"user_id"`
	Name   string `json:"name,omitempty"`
	Active bool   `json:"active"`
	// MFAEnabled and MFAEnforced are nil when the vendor does not say.
	MFAEnabled  *bool      `json:"mfa_enabled,omitempty"`
	MFAEnforced *bool      `json:"mfa_enforced,omitempty"`
	Rights      []string   `json:"rights,omitempty"`
	LastLogin   *time.Time `json:"last_login,omitempty"`
	Line        int        `json:"-"` // where it was read
}

// Account is system:user_id, the account key of the posture findings.
func (a AccountGrant) Account() string { return a.System + ":" + a.UserID }

// ConnectedApp is one connected (OAuth) app of a permissions snapshot.
type ConnectedApp struct {
	System string   `json:"system"`
	AppID  string   `json:"app_id"`
	Name   string   `json:"name,omitempty"`
	Scopes []string `json:"scopes"`
	// Users is how many users authorised or have it installed; nil when
	// the vendor does not say.
	Users *uint64 `json:"users,omitempty"`
	// LastUsed is nil when the vendor does not say; such an app is never
	// judged unused.
	LastUsed *time.Time `json:"last_used,omitempty"`
	Line     int        `json:"-"`
}

// permissionLine is one line of the file as written: every field a
// pointer or raw value so that a missing field is told from a zero one.
type permissionLine struct {
	Type        *string          `json:"type"`
	System      *string          `json:"system"`
	UserID      *string          `json:"user_id"`
	AppID       *string          `json:"app_id"`
	Name        *string          `json:"name"`
	Active      *bool            `json:"active"`
	MFAEnabled  *bool            `json:"mfa_enabled"`
	MFAEnforced *bool            `json:"mfa_enforced"`
	Rights      *[]string        `json:"rights"`
	LastLogin   *string          `json:"last_login"`
	Scopes      *[]string        `json:"scopes"`
	Users       *json.RawMessage `json:"users"`
	LastUsed    *string          `json:"last_used"`
}

// Limits of a permissions snapshot.
const (
	maxPermissionLine  = 1 << 20
	maxPermissionItems = 10000 // rights or scopes per line
	maxPermissionField = 1024  // bytes of one string
	maxPermissionProbs = 20    // problems reported before giving up
)

var systemName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ReadPermissionsFile reads a permissions snapshot file.
func ReadPermissionsFile(path string) (*Permissions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("permissions snapshot: %w", err)
	}
	defer f.Close()
	return ParsePermissions(f, path)
}

// ParsePermissions reads a permissions snapshot (NDJSON) from r; name is
// the file name errors start with. Every line is checked strictly: known
// fields only, each of its type, required ones present, times in RFC
// 3339, no account or app twice. All problems (up to 20) are reported,
// each as "name:line: field: why".
func ParsePermissions(r io.Reader, name string) (*Permissions, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	p := &Permissions{}
	var errs []error
	seen := map[string]int{}
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, errLineTooLong) {
				errs = append(errs, fmt.Errorf("%s:%d: line longer than %d bytes", name, n, maxPermissionLine))
				if _, err := skipLine(br); err == nil {
					continue
				}
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		last := errors.Is(err, io.EOF)
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a byte-order mark some exports write
		}
		if !utf8.Valid(line) {
			errs = append(errs, fmt.Errorf("%s:%d: not valid UTF-8", name, n))
		} else if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			lineErrs := p.parseLine(trimmed, n, seen)
			for _, e := range lineErrs {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, e))
			}
		}
		if len(errs) >= maxPermissionProbs {
			errs = append(errs, fmt.Errorf("%s: stopped after %d problems", name, len(errs)))
			break
		}
		if last {
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(p.Accounts) == 0 && len(p.Apps) == 0 {
		return nil, fmt.Errorf("%s: no account and no app: an empty permissions snapshot says nothing", name)
	}
	return p, nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line without its newline, refusing lines over the
// limit.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		out = append(out, chunk...)
		if len(out) > maxPermissionLine {
			return nil, errLineTooLong
		}
		if err != nil {
			return out, err
		}
		if !isPrefix {
			return out, nil
		}
	}
}

func skipLine(br *bufio.Reader) (int, error) {
	n := 0
	for {
		chunk, isPrefix, err := br.ReadLine()
		n += len(chunk)
		if err != nil || !isPrefix {
			return n, err
		}
	}
}

// parseLine decodes one non-empty line into p and returns its problems.
func (p *Permissions) parseLine(b []byte, n int, seen map[string]int) []error {
	var l permissionLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return []error{describeJSONError(err)}
	}
	if dec.More() {
		return []error{errors.New("more than one JSON value on the line (one object per line)")}
	}
	var errs []error
	req := func(field string, v *string) string {
		switch {
		case v == nil:
			errs = append(errs, fmt.Errorf("%s: required", field))
		case strings.TrimSpace(*v) == "":
			errs = append(errs, fmt.Errorf("%s: empty", field))
		case len(*v) > maxPermissionField:
			errs = append(errs, fmt.Errorf("%s: longer than %d bytes", field, maxPermissionField))
		default:
			return *v
		}
		return ""
	}
	opt := func(field string, v *string) string {
		if v == nil {
			return ""
		}
		if len(*v) > maxPermissionField {
			errs = append(errs, fmt.Errorf("%s: longer than %d bytes", field, maxPermissionField))
			return ""
		}
		return *v
	}
	when := func(field string, v *string) *time.Time {
		if v == nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, *v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not an RFC 3339 time (2026-11-03T09:00:00Z)", field, *v))
			return nil
		}
		t = t.UTC()
		return &t
	}
	list := func(field string, v *[]string, required bool) []string {
		if v == nil {
			if required {
				errs = append(errs, fmt.Errorf("%s: required (an empty list when there are none)", field))
			}
			return nil
		}
		if len(*v) > maxPermissionItems {
			errs = append(errs, fmt.Errorf("%s: more than %d entries", field, maxPermissionItems))
			return nil
		}
		dup := map[string]bool{}
		for i, s := range *v {
			switch {
			case strings.TrimSpace(s) == "":
				errs = append(errs, fmt.Errorf("%s[%d]: empty", field, i))
			case len(s) > maxPermissionField:
				errs = append(errs, fmt.Errorf("%s[%d]: longer than %d bytes", field, i, maxPermissionField))
			case dup[s]:
				errs = append(errs, fmt.Errorf("%s[%d]: %q listed twice", field, i, s))
			}
			dup[s] = true
		}
		return *v
	}
	not := func(field string, set bool, typ string) {
		if set {
			errs = append(errs, fmt.Errorf("%s: not a field of an %s", field, typ))
		}
	}
	typ := req("type", l.Type)
	system := req("system", l.System)
	if system != "" && !systemName.MatchString(system) {
		errs = append(errs, fmt.Errorf("system: %q, want the source system's lower-case name (salesforce, hubspot, dynamics365, …)", system))
	}
	switch typ {
	case "":
	case "account":
		a := AccountGrant{System: system, UserID: req("user_id", l.UserID), Name: opt("name", l.Name),
			MFAEnabled: l.MFAEnabled, MFAEnforced: l.MFAEnforced, Rights: list("rights", l.Rights, false),
			LastLogin: when("last_login", l.LastLogin), Line: n}
		if l.Active == nil {
			errs = append(errs, errors.New("active: required (true or false)"))
		} else {
			a.Active = *l.Active
		}
		not("app_id", l.AppID != nil, "account")
		not("scopes", l.Scopes != nil, "account")
		not("users", l.Users != nil, "account")
		not("last_used", l.LastUsed != nil, "account")
		if len(errs) == 0 {
			key := "account " + a.Account()
			if first, dup := seen[key]; dup {
				return []error{fmt.Errorf("user_id: %s is already listed on line %d", a.Account(), first)}
			}
			seen[key] = n
			p.Accounts = append(p.Accounts, a)
		}
	case "app":
		a := ConnectedApp{System: system, AppID: req("app_id", l.AppID), Name: opt("name", l.Name),
			Scopes: list("scopes", l.Scopes, true), LastUsed: when("last_used", l.LastUsed), Line: n}
		if l.Users != nil {
			var u uint64
			if err := json.Unmarshal(*l.Users, &u); err != nil {
				errs = append(errs, fmt.Errorf("users: %s is not a whole number ≥ 0", string(*l.Users)))
			} else {
				a.Users = &u
			}
		}
		not("user_id", l.UserID != nil, "app")
		not("active", l.Active != nil, "app")
		not("mfa_enabled", l.MFAEnabled != nil, "app")
		not("mfa_enforced", l.MFAEnforced != nil, "app")
		not("rights", l.Rights != nil, "app")
		not("last_login", l.LastLogin != nil, "app")
		if len(errs) == 0 {
			key := "app " + a.System + ":" + a.AppID
			if first, dup := seen[key]; dup {
				return []error{fmt.Errorf("app_id: %s:%s is already listed on line %d", a.System, a.AppID, first)}
			}
			seen[key] = n
			p.Apps = append(p.Apps, a)
		}
	default:
		errs = append(errs, fmt.Errorf("type: %q, want account or app", typ))
	}
	return errs
}

// describeJSONError names the field of a decoding error where it can.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return fmt.Errorf("want a JSON object, got a %s", te.Value)
		}
		want := map[string]string{"type": "a string", "system": "a string", "user_id": "a string", "app_id": "a string",
			"name": "a string", "active": "true or false", "mfa_enabled": "true or false", "mfa_enforced": "true or false",
			"rights": "a list of strings", "scopes": "a list of strings", "last_login": "an RFC 3339 string", "last_used": "an RFC 3339 string"}
		w, ok := want[strings.SplitN(field, ".", 2)[0]]
		if !ok {
			w = te.Type.String()
		}
		return fmt.Errorf("%s: want %s, got a JSON %s", field, w, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Errorf("%s: unknown field (known: type, system, user_id, name, active, mfa_enabled, mfa_enforced, rights, last_login; app_id, scopes, users, last_used)", strings.Trim(f, `"`))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON object is cut short")
	}
	return err
}

// sortedScopes returns the scopes sorted, for stable evidence.
func sortedScopes(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
