package oncall

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// APIConfig configures the approval API the respond role serves.
type APIConfig struct {
	Listen string `yaml:"listen" doc:"Address of the approval API (POST /v1/actions/{id}/approve, …); empty turns it off."`
	// Approvers map a person's name (recorded as the actor) to where their
	// token is kept and which tenants' actions they may see and decide.
	Approvers      map[string]Approver `yaml:"approvers" doc:"Approvers by name (the name is recorded on their records), each with the file or environment variable holding their bearer token (at least 32 characters), optionally the tenants whose actions they may list, see and decide (tenants: [acme]; absent: every tenant), and their own CRM accounts, ids or logins, whose actions they may not decide (accounts: [...])."`
	TLS            TLSConfig           `yaml:"tls" doc:"TLS for the approval API."`
	AllowPlaintext bool                `yaml:"allow_plaintext" doc:"Serve the API without TLS on a non-loopback address (behind a proxy that terminates TLS); tokens then cross the network in the clear up to that proxy."`
}

// Approver is one person allowed to use the approval API.
type Approver struct {
	// The token's location: file or env.
	adapter.Secret `yaml:",inline"`
	// Tenants limits the approver to these tenants' actions: others are
	// neither listed nor found (404, as an unknown id). Empty: every
	// tenant, for an on-call team that serves them all.
	Tenants []string `yaml:"tenants"`
	// Accounts are the approver's own CRM accounts (ids or login names):
	// they may not approve, reject or undo an action on one of them (the
	// four-eyes principle: nobody decides on their own freeze).
	Accounts []string `yaml:"accounts"`
}

// TLSConfig is the API's certificate.
type TLSConfig struct {
	CertFile string `yaml:"cert_file" doc:"PEM certificate chain; with key_file, the API serves HTTPS only."`
	KeyFile  string `yaml:"key_file" doc:"PEM private key of cert_file."`
}

// minTokenLen keeps guessable tokens out.
const minTokenLen = 32

// Validate reports every problem at once, naming the setting.
func (c APIConfig) Validate() error {
	if c.Listen == "" {
		return nil
	}
	var errs []error
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("respond.api.listen: %q is not host:port", c.Listen))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("respond.api.tls: cert_file and key_file must be set together"))
	}
	if c.TLS.CertFile == "" && !c.AllowPlaintext && err == nil && !loopback(host) {
		errs = append(errs, fmt.Errorf("respond.api: listening on %s without TLS would send bearer tokens in the clear; set tls.cert_file and tls.key_file, listen on a loopback address, or set allow_plaintext behind a TLS-terminating proxy", c.Listen))
	}
	if len(c.Approvers) == 0 {
		errs = append(errs, errors.New("respond.api.approvers: at least one approver is required to serve the API"))
	}
	for _, name := range sortedNames(c.Approvers) {
		if err := ValidActor(name); err != nil {
			errs = append(errs, fmt.Errorf("respond.api.approvers.%s: %w", name, err))
		}
		if err := c.Approvers[name].Validate("respond.api.approvers." + name); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, checkIDs("respond.api.approvers."+name+".tenants", "a tenant id", c.Approvers[name].Tenants)...)
		errs = append(errs, checkIDs("respond.api.approvers."+name+".accounts", "an account id or login", c.Approvers[name].Accounts)...)
	}
	return errors.Join(errs...)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkIDs refuses empty entries of a list of ids and entries surrounded by
// spaces (which would never match), naming each by its path and index.
func checkIDs(path, what string, ids []string) []error {
	var errs []error
	for i, t := range ids {
		if strings.TrimSpace(t) == "" || t != strings.TrimSpace(t) {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is not %s (empty, or surrounded by spaces)", path, i, t, what))
		}
	}
	return errs
}

// Approvers authenticate bearer tokens. Only SHA-256 digests of the
// tokens are kept, and a token is compared with every approver's in
// constant time, so neither the time taken nor an early exit tells which
// approver, or how much of a token, matched.
type Approvers struct {
	names    []string
	digests  [][sha256.Size]byte
	tenants  map[string][]string // by name; absent: every tenant
	accounts map[string][]string // by name: their own CRM accounts
}

// LoadApprovers reads every approver's token. Errors name the approver and
// where the token lives, never the token.
func LoadApprovers(c map[string]Approver) (*Approvers, error) {
	a := &Approvers{tenants: map[string][]string{}, accounts: map[string][]string{}}
	var errs []error
	seen := map[[sha256.Size]byte]string{}
	for _, name := range sortedNames(c) {
		tok, err := c[name].Load()
		if err != nil {
			errs = append(errs, fmt.Errorf("approver %s: %w", name, err))
			continue
		}
		if len(tok) < minTokenLen {
			errs = append(errs, fmt.Errorf("approver %s: the token in %s is shorter than %d characters", name, c[name], minTokenLen))
			continue
		}
		d := sha256.Sum256([]byte(tok))
		if other, ok := seen[d]; ok {
			errs = append(errs, fmt.Errorf("approvers %s and %s share a token: records could not say who decided", other, name))
			continue
		}
		seen[d] = name
		a.names = append(a.names, name)
		a.digests = append(a.digests, d)
		if ts := c[name].Tenants; len(ts) > 0 {
			a.tenants[name] = slices.Clone(ts)
		}
		if as := c[name].Accounts; len(as) > 0 {
			a.accounts[name] = slices.Clone(as)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(a.names) == 0 {
		return nil, errors.New("no approvers configured")
	}
	return a, nil
}

// Tenants returns the tenants approver name is limited to; nil: every
// tenant.
func (a *Approvers) Tenants(name string) []string { return a.tenants[name] }

// Accounts returns approver name's own CRM accounts (ids or logins).
func (a *Approvers) Accounts(name string) []string { return a.accounts[name] }

// Authenticate returns the approver whose token authorization carries
// ("Bearer <token>"), or false.
func (a *Approvers) Authenticate(authorization string) (string, bool) {
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i := range a.digests {
		if subtle.ConstantTimeCompare(d[:], a.digests[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", false
	}
	return a.names[match], true
}
