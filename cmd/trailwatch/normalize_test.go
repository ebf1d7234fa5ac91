package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(t.Context()) // what it starts ends with the test
	return out.String(), errb.String(), err
}

func TestNormalizeCommand(t *testing.T) {
	in := `{"countryCode":"ie","email":"person3@testdomain.com","id":"5432653","ipAddress":"45.56.67.89","loginAt":"2022-04-01T19:36:24.303Z","loginSucceeded":true,"userId":876}
{"id":"2","loginAt":"soon","userId":1}
`
	stdout, stderr, err := runCLI(t, in, "normalize", "--format", "hubspot-login-activity", "--tenant", "acme")
	if !errors.Is(err, errRejected) {
		t.Fatalf("err = %v, want errRejected (exit status 1)", err)
	}
	want := `{"id":"hs-login-5432653","timestamp":"2022-04-01T19:36:24.303Z","tenant":"acme","source":{"system":"hubspot","id":"5432653"},"event":{"category":"authentication","action":"login","outcome":"success"},"user":{"id":"876","name":"person3@testdomain.com"},"client":{"ip":"45.56.67.89","geo":{"country":"IE"}}}` + "\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if !strings.Contains(stderr, `line 2: loginAt: "soon" is not a HubSpot date-time`) || !strings.Contains(stderr, "1 accepted, 1 rejected") {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestNormalizeCommandFileAndGeneric(t *testing.T) {
	_, _, err := runCLI(t, "", "normalize", "--format", "salesforce-elf-login", "--tenant", "acme", "--in", "../../ingest/salesforce/testdata/elf-login.csv")
	if err != nil {
		t.Fatalf("ELF CSV file: %v", err)
	}
	stdout, _, err := runCLI(t, "", "normalize", "--format", "generic", "--tenant", "acme",
		"--mapping", "../../ingest/generic/testdata/inhouse.yaml", "--in", "../../ingest/generic/testdata/inhouse.ndjson")
	if err != nil || strings.Count(stdout, "\n") != 3 {
		t.Fatalf("generic: %v\n%s", err, stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nfields: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(t, "{}", "normalize", "--format", "generic", "--tenant", "acme", "--mapping", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:2: fields.event.category: missing") {
		t.Fatalf("bad mapping: %v", err)
	}
	for _, args := range [][]string{
		{"normalize", "--format", "generic", "--tenant", "acme"},
		{"normalize", "--format", "nope", "--tenant", "acme"},
		{"normalize", "--format", "hubspot-login-activity"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
