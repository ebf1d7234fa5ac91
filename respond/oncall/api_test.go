package oncall_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

const (
	aliceToken = "alice-0123456789abcdef0123456789abcdef"
	bobToken   = "bob-0123456789abcdef0123456789abcdef00"
)

// approvers: alice's token in a file, bob's in the environment.
func approvers(t *testing.T) map[string]oncall.Approver {
	t.Helper()
	f := filepath.Join(t.TempDir(), "alice.token")
	if err := os.WriteFile(f, []byte(aliceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TW_TEST_BOB_TOKEN", bobToken)
	return map[string]oncall.Approver{"alice": {Secret: adapter.Secret{File: f}}, "bob": {Secret: adapter.Secret{Env: "TW_TEST_BOB_TOKEN"}}}
}

func newAPI(t *testing.T, w *world) (*oncall.API, *prometheus.Registry) {
	t.Helper()
	ap, err := oncall.LoadApprovers(approvers(t))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	api, err := oncall.NewAPI(w.svc, ap, testenv.Logger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	return api, reg
}

// call sends a request with token (none if empty) and decodes the answer.
func call(t *testing.T, c *http.Client, method, url, token, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, url, b)
	}
	return resp.StatusCode, resp.Header, out
}

func TestAPI(t *testing.T) {
	w := newWorld(t)
	api, reg := newAPI(t, w)
	srv := httptest.NewServer(api)
	defer srv.Close()
	c := srv.Client()
	u := srv.URL + "/v1/actions"

	t.Run("no token", func(t *testing.T) {
		code, h, body := call(t, c, "GET", u+"?status=awaiting_approval", "", "")
		if code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") || body["error"] == nil {
			t.Fatalf("%d %v %v", code, h, body)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		for _, tok := range []string{aliceToken + "x", aliceToken[:len(aliceToken)-1], "Basic " + aliceToken} {
			if code, _, _ := call(t, c, "POST", u+"/act-wait/approve", tok, ""); code != 401 {
				t.Fatalf("token %q: %d, want 401", tok, code)
			}
		}
		if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval" {
			t.Fatalf("an unauthenticated request changed the action: %s", got)
		}
	})
	t.Run("list awaiting approval", func(t *testing.T) {
		code, _, body := call(t, c, "GET", u+"?status=awaiting_approval", bobToken, "")
		acts, _ := body["actions"].([]any)
		if code != 200 || len(acts) != 1 || acts[0].(map[string]any)["id"] != "act-wait" {
			t.Fatalf("%d %v", code, body)
		}
		if code, _, _ := call(t, c, "GET", u+"?since=yesterday", bobToken, ""); code != 400 {
			t.Fatalf("bad since: %d", code)
		}
		// Within the history horizon (24h here) a list may look back as
		// far as it likes; beyond it, it would make the service read the
		// whole topic: refused, saying why.
		if code, _, body := call(t, c, "GET", u+"?since=23h", bobToken, ""); code != 200 || len(body["actions"].([]any)) == 0 {
			t.Fatalf("since within the horizon: %d %v", code, body)
		}
		for _, since := range []string{"25h", "100000h", "2000-01-01T00:00:00Z"} {
			code, _, body := call(t, c, "GET", u+"?since="+since, bobToken, "")
			if msg, _ := body["error"].(string); code != 400 || !strings.Contains(msg, "before the history horizon (24h0m0s back") {
				t.Fatalf("since=%s: %d %v", since, code, body)
			}
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		for _, op := range []string{"approve", "reject", "undo"} {
			if code, _, body := call(t, c, "POST", u+"/act-404/"+op, aliceToken, ""); code != 404 {
				t.Fatalf("%s: %d %v", op, code, body)
			}
		}
		if code, _, _ := call(t, c, "GET", u+"/act-404", aliceToken, ""); code != 404 {
			t.Fatalf("show: %d", code)
		}
	})
	t.Run("approve records the approver", func(t *testing.T) {
		code, _, body := call(t, c, "POST", u+"/act-wait/approve", aliceToken, "")
		rec, _ := body["record"].(map[string]any)
		if code != 200 || rec["status"] != alert.StatusApproved || rec["actor"] != "alice" {
			t.Fatalf("%d %v", code, body)
		}
		recs := w.recordsOf(t, "act-wait")
		if last := recs[len(recs)-1]; last.Status != alert.StatusApproved || last.Actor != "alice" {
			t.Fatalf("on the topic: %+v", last)
		}
	})
	t.Run("double approval", func(t *testing.T) {
		code, _, body := call(t, c, "POST", u+"/act-wait/approve", bobToken, "")
		if code != 409 || !strings.Contains(body["error"].(string), "already approved by alice") {
			t.Fatalf("%d %v", code, body)
		}
		if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval,approved" {
			t.Fatalf("records after a double approval: %s", got)
		}
	})
	t.Run("reject needs a well-formed body", func(t *testing.T) {
		w.publish(t, action("act-wait2", "acme", "freeze_account"), 5, alert.StatusRequested, alert.StatusAwaitingApproval)
		if code, _, _ := call(t, c, "POST", u+"/act-wait2/reject", bobToken, `{"reson":"typo"}`); code != 400 {
			t.Fatalf("unknown field: %d", code)
		}
		code, _, body := call(t, c, "POST", u+"/act-wait2/reject", bobToken, `{"reason":"expected: red team exercise"}`)
		rec, _ := body["record"].(map[string]any)
		if code != 200 || rec["actor"] != "bob" || rec["detail"] != "expected: red team exercise" {
			t.Fatalf("%d %v", code, body)
		}
	})
	t.Run("show", func(t *testing.T) {
		code, _, body := call(t, c, "GET", u+"/act-wait2", aliceToken, "")
		hist, _ := body["history"].([]any)
		if code != 200 || len(hist) != 3 {
			t.Fatalf("%d %v", code, body)
		}
	})
	if got := counterValue(t, reg, "trailwatch_respond_api_requests_total", "approve", "409"); got != 1 {
		t.Fatalf("api_requests_total{approve,409} = %v", got)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, op, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["op"] == op && l["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestAPIOverTLS(t *testing.T) {
	w := newWorld(t)
	api, _ := newAPI(t, w)
	certFile, keyFile, pool := selfSigned(t)
	srv, err := oncall.Listen(oncall.APIConfig{
		Listen: "127.0.0.1:0", Approvers: approvers(t), TLS: oncall.TLSConfig{CertFile: certFile, KeyFile: keyFile},
	}, api, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	code, _, body := call(t, c, "GET", "https://"+srv.Addr()+"/v1/actions?status=failed", aliceToken, "")
	if code != 200 || len(body["actions"].([]any)) != 1 {
		t.Fatalf("%d %v", code, body)
	}
	// Plain HTTP on the TLS port gets nowhere near the handler.
	if resp, err := http.Get("http://" + srv.Addr() + "/v1/actions"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || strings.Contains(string(b), "actions") {
			t.Fatalf("plain HTTP answered %d %q", resp.StatusCode, b)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAPIConfigValidate(t *testing.T) {
	ok := map[string]oncall.Approver{"alice": {Secret: adapter.Secret{Env: "X"}}}
	for _, c := range []struct {
		cfg  oncall.APIConfig
		want string // "" for valid
	}{
		{oncall.APIConfig{}, ""},
		{oncall.APIConfig{Listen: "127.0.0.1:8443", Approvers: ok}, ""},
		{oncall.APIConfig{Listen: "0.0.0.0:8443", Approvers: ok}, "in the clear"},
		{oncall.APIConfig{Listen: "0.0.0.0:8443", Approvers: ok, AllowPlaintext: true}, ""},
		{oncall.APIConfig{Listen: "0.0.0.0:8443", Approvers: ok, TLS: oncall.TLSConfig{CertFile: "c"}}, "set together"},
		{oncall.APIConfig{Listen: "127.0.0.1:8443"}, "at least one approver"},
		{oncall.APIConfig{Listen: "127.0.0.1:8443", Approvers: map[string]oncall.Approver{"a\nb": {}}}, "control characters"},
		{oncall.APIConfig{Listen: "nope", Approvers: ok}, "not host:port"},
		{oncall.APIConfig{Listen: "127.0.0.1:8443", Approvers: map[string]oncall.Approver{"alice": {Secret: adapter.Secret{Env: "X"}, Tenants: []string{"acme", " "}}}}, "approvers.alice.tenants[1]"},
		{oncall.APIConfig{Listen: "127.0.0.1:8443", Approvers: map[string]oncall.Approver{"alice": {Secret: adapter.Secret{Env: "X"}, Tenants: []string{"acme"}}}}, ""},
		{oncall.APIConfig{Listen: "127.0.0.1:8443", Approvers: map[string]oncall.Approver{"alice": {Secret: adapter.Secret{Env: "X"}, Accounts: []string{""}}}}, "approvers.alice.accounts[0]"},
	} {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestLoadApprovers(t *testing.T) {
	t.Setenv("TW_SHORT", "short")
	t.Setenv("TW_SAME1", aliceToken)
	t.Setenv("TW_SAME2", aliceToken)
	for _, c := range []struct {
		in   map[string]oncall.Approver
		want string
	}{
		{map[string]oncall.Approver{"a": {Secret: adapter.Secret{Env: "TW_SHORT"}}}, "shorter than 32"},
		{map[string]oncall.Approver{"a": {Secret: adapter.Secret{Env: "TW_SAME1"}}, "b": {Secret: adapter.Secret{Env: "TW_SAME2"}}}, "share a token"},
		{map[string]oncall.Approver{"a": {Secret: adapter.Secret{Env: "TW_UNSET_FOR_SURE"}}}, "TW_UNSET_FOR_SURE"},
		{nil, "no approvers"},
	} {
		_, err := oncall.LoadApprovers(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), aliceToken) {
			t.Errorf("%v: %v, want %q (and never the token)", c.in, err, c.want)
		}
	}
	ap, err := oncall.LoadApprovers(approvers(t))
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{"Bearer " + aliceToken: "alice", "bearer " + bobToken: "bob", "Bearer  " + bobToken + " ": "bob", "Bearer": "", aliceToken: "", "": ""} {
		got, ok := ap.Authenticate(h)
		if got != want || ok != (want != "") {
			t.Errorf("Authenticate(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}

func TestDecodeReason(t *testing.T) {
	for body, want := range map[string]string{"": "", "  ": "", `{}`: "", `{"reason":" pen test "}`: "pen test"} {
		got, err := oncall.DecodeReason([]byte(body))
		if err != nil || got != want {
			t.Errorf("DecodeReason(%q) = %q, %v", body, got, err)
		}
	}
	for _, body := range []string{`{"reason":1}`, `{"reson":"x"}`, `{"reason":"a"} {}`, `[`, `{"reason":"` + strings.Repeat("x", 1001) + `"}`} {
		if _, err := oncall.DecodeReason([]byte(body)); err == nil {
			t.Errorf("DecodeReason(%.40q) accepted", body)
		}
	}
}

func FuzzDecodeReason(f *testing.F) {
	for _, s := range []string{"", `{"reason":"pen test"}`, `{"reason":null}`, `{"reason":"\u0000\ud800"}`, `{"a":1}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := oncall.DecodeReason(body)
		if err == nil && len(got) > 1000 {
			t.Fatalf("accepted a %d-byte reason", len(got))
		}
	})
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trailwatch test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serveWith serves the API with alice, bob and one more approver (token
// from the environment, the rest of the settings from ap), and returns a
// client and the actions URL.
func serveWith(t *testing.T, w *world, name, token string, ap oncall.Approver) (*http.Client, string) {
	t.Helper()
	env := "TW_TEST_" + strings.ToUpper(name) + "_TOKEN"
	t.Setenv(env, token)
	cfg := approvers(t)
	ap.Secret = adapter.Secret{Env: env}
	cfg[name] = ap
	loaded, err := oncall.LoadApprovers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	api, err := oncall.NewAPI(w.svc, loaded, testenv.Logger(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.Client(), srv.URL + "/v1/actions"
}

// TestAPITenantScopedApprover: an approver limited to tenants lists, sees
// and decides only their actions; to them another tenant's action does not
// exist (404, the same answer as an unknown id), and a decision on it
// writes nothing. An approver without tenants still sees every tenant.
func TestAPITenantScopedApprover(t *testing.T) {
	w := newWorld(t)
	const carolToken = "carol-0123456789abcdef0123456789abcdef"
	c, u := serveWith(t, w, "carol", carolToken, oncall.Approver{Tenants: []string{"beta"}})

	listed := func(token, query string) string {
		t.Helper()
		code, _, body := call(t, c, "GET", u+query, token, "")
		if code != 200 {
			t.Fatalf("list%s: %d %v", query, code, body)
		}
		var got []string
		for _, a := range body["actions"].([]any) {
			got = append(got, a.(map[string]any)["id"].(string))
		}
		return strings.Join(got, ",")
	}
	if got := listed(carolToken, ""); got != "note-beta" {
		t.Errorf("carol lists %q, want only beta's note-beta", got)
	}
	if got := listed(carolToken, "?tenant=acme"); got != "" {
		t.Errorf("carol lists acme's actions by asking: %q", got)
	}
	if got := listed(bobToken, ""); !strings.Contains(got, "act-wait") || !strings.Contains(got, "note-beta") {
		t.Errorf("bob (every tenant) lists %q", got)
	}
	if code, _, body := call(t, c, "GET", u+"/note-beta", carolToken, ""); code != 200 || body["id"] != "note-beta" {
		t.Errorf("carol shows her tenant's action: %d %v", code, body)
	}
	_, _, unknown := call(t, c, "GET", u+"/act-404", carolToken, "")
	for _, op := range []struct{ method, path string }{{"GET", ""}, {"POST", "/approve"}, {"POST", "/reject"}, {"POST", "/undo"}} {
		code, _, body := call(t, c, op.method, u+"/act-wait"+op.path, carolToken, "")
		if code != 404 {
			t.Errorf("carol %s act-wait%s (acme): %d %v, want 404", op.method, op.path, code, body)
		}
		if msg, _ := body["error"].(string); strings.ReplaceAll(msg, "act-wait", "act-404") != unknown["error"] {
			t.Errorf("carol %s act-wait%s: %q tells more than an unknown id's %q", op.method, op.path, msg, unknown["error"])
		}
	}
	if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval" {
		t.Fatalf("a decision out of carol's tenants was recorded: %s", got)
	}
	// Bob, unlimited, decides it.
	if code, _, body := call(t, c, "POST", u+"/act-wait/approve", bobToken, ""); code != 200 {
		t.Fatalf("bob approves: %d %v", code, body)
	}
}

// TestAPIOwnAccount: an approver may see an action on one of their own
// accounts but not decide it (403, nothing recorded): not approve, not
// reject, not undo. Accounts match by id, or by login ignoring case.
func TestAPIOwnAccount(t *testing.T) {
	w := newWorld(t)
	const daveToken = "dave-0123456789abcdef0123456789abcdef0"
	c, u := serveWith(t, w, "dave", daveToken, oncall.Approver{Accounts: []string{"JDoe@ACME.example"}})
	if code, _, body := call(t, c, "GET", u+"/act-wait", daveToken, ""); code != 200 {
		t.Fatalf("dave shows the action on his account: %d %v", code, body)
	}
	for _, op := range []string{"/act-wait/approve", "/act-wait/reject", "/act-done/undo"} {
		code, _, body := call(t, c, "POST", u+op, daveToken, "")
		if msg, _ := body["error"].(string); code != 403 || !strings.Contains(msg, "your own account") {
			t.Errorf("dave POST %s: %d %v, want 403", op, code, body)
		}
	}
	if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval" {
		t.Fatalf("a decision on dave's own account was recorded: %s", got)
	}
	if _, err := w.svc.Show(t.Context(), respond.UndoID("act-done")); !errors.Is(err, oncall.ErrNotFound) {
		t.Errorf("an undo of dave's own freeze exists: %v", err)
	}
	// By id too, and another approver decides.
	svc := w.svc.For(nil, []string{"005000000000001"})
	if _, err := svc.Approve(t.Context(), "act-wait", "dave"); !errors.Is(err, oncall.ErrOwnAccount) {
		t.Errorf("approving one's own account by id: %v", err)
	}
	if code, _, body := call(t, c, "POST", u+"/act-wait/approve", bobToken, ""); code != 200 {
		t.Fatalf("bob approves: %d %v", code, body)
	}
}
