package chserver

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	withPass := User{Name: "u", Role: RoleReader, PasswordSHA256Hex: sha("x")}
	noPass := User{Name: "default", Role: RoleAdmin}
	tests := []struct {
		name   string
		listen string
		users  []User
		want   []string // substrings of the error; none: valid
	}{
		{"loopback without password", "127.0.0.1:8123", []User{noPass}, nil},
		{"localhost without password", "localhost:0", []User{noPass}, nil},
		{"ipv6 loopback without password", "[::1]:8123", []User{noPass}, nil},
		{"public with passwords", "0.0.0.0:8123", []User{withPass}, nil},
		{"public without password", "0.0.0.0:8123", []User{withPass, noPass}, []string{`clickhouse.users[1]: user "default" has no password`, "not a loopback address"}},
		{"all interfaces without password", ":8123", []User{noPass}, []string{"no password"}},
		{"lan without password", "192.168.1.5:8123", []User{noPass}, []string{"no password"}},
		{"bad role and duplicate", "127.0.0.1:0", []User{{Name: "a", Role: "root"}, {Name: "a", Role: RoleAdmin}}, []string{`users[0].role: "root"`, `users[1].name: "a" is listed twice`}},
		{"bad hash", "127.0.0.1:0", []User{{Name: "a", Role: RoleAdmin, PasswordSHA256Hex: "abc"}}, []string{"not 64 hex digits"}},
		{"bad listen", "nowhere", []User{noPass}, []string{"clickhouse.listen"}},
		{"scoped auditor and reader", "127.0.0.1:0", []User{{Name: "a", Role: RoleAuditor}, {Name: "r", Role: RoleReader, Tenant: "acme"}, {Name: "q", Role: RoleAuditor, Tenant: `o'ne\il`}}, nil},
		{"tenant on an admin and a writer", "127.0.0.1:0", []User{{Name: "a", Role: RoleAdmin, Tenant: "acme"}, {Name: "w", Role: RoleWriter, Tenant: "acme"}},
			[]string{`users[0].tenant: only a reader or an auditor`, `users[1].tenant: only a reader or an auditor`}},
		{"tenant with a newline", "127.0.0.1:0", []User{{Name: "r", Role: RoleReader, Tenant: "ac\nme"}}, []string{"users[0].tenant: must be valid UTF-8"}},
		{"tenant too long", "127.0.0.1:0", []User{{Name: "r", Role: RoleReader, Tenant: strings.Repeat("t", 129)}}, []string{"at most 128 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Listen = tc.listen
			cfg.Users = tc.users
			err := cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("valid, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\ndoes not say %q", err, w)
				}
			}
		})
	}
}

// TestNewRefusesPublicWithoutPassword: the check holds at start, not only
// in Validate's callers.
func TestNewRefusesPublicWithoutPassword(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "0.0.0.0:0"
	if _, err := New(t.Context(), testSrv.eng, cfg, testSrv.log, nil); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("New: %v", err)
	}
}
