package adapter

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestClientCredentialsCachesUntilExpiry(t *testing.T) {
	var issued atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" ||
			r.Form.Get("client_id") != "id" || r.Form.Get("client_secret") != "s3cret" || r.Form.Get("scope") != "api/.default" {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_client","error_description":"bad client"}`))
			return
		}
		n := issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"tok` + string(rune('0'+n)) + `","expires_in":3600,"token_type":"Bearer"}`))
	}))
	defer srv.Close()

	now := time.Unix(1_800_000_000, 0)
	cc := &ClientCredentials{Vendor: "acme", TokenURL: srv.URL, ClientID: "id", ClientSecret: "s3cret", Scope: "api/.default",
		Now: func() time.Time { return now }}
	t1, err := cc.Token(t.Context())
	if err != nil || t1.Value != "tok1" {
		t.Fatalf("first token %v, %v", t1, err)
	}
	now = now.Add(58 * time.Minute) // still more than the skew before expiry
	if t2, _ := cc.Token(t.Context()); t2.Value != "tok1" {
		t.Fatalf("cached token replaced early: %v", t2.Value)
	}
	now = now.Add(90 * time.Second) // within the skew: refresh
	if t3, _ := cc.Token(t.Context()); t3.Value != "tok2" {
		t.Fatalf("token not refreshed before expiry: %v", t3.Value)
	}
	if !cc.Invalidate("tok2") {
		t.Fatal("Invalidate must allow a refresh")
	}
	if t4, _ := cc.Token(t.Context()); t4.Value != "tok3" {
		t.Fatalf("token not refetched after invalidation: %v", t4.Value)
	}

	cc = &ClientCredentials{Vendor: "acme", TokenURL: srv.URL, ClientID: "id", ClientSecret: "wrong", Scope: "api/.default"}
	_, err = cc.Token(t.Context())
	var ve *Error
	if !errors.As(err, &ve) || ve.Kind != KindAuth || ve.Code != "invalid_client" || ve.Message != "bad client" {
		t.Fatalf("bad secret: %v", err)
	}
}

func TestSecretLoad(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/token"
	if err := writeFile(path, "  abc\n"); err != nil {
		t.Fatal(err)
	}
	if v, err := (Secret{File: path}).Load(); err != nil || v != "abc" {
		t.Fatalf("file: %q %v", v, err)
	}
	t.Setenv("TW_TEST_SECRET", "xyz")
	if v, err := (Secret{Env: "TW_TEST_SECRET"}).Load(); err != nil || v != "xyz" {
		t.Fatalf("env: %q %v", v, err)
	}
	if _, err := (Secret{Env: "TW_TEST_UNSET_SECRET"}).Load(); err == nil {
		t.Fatal("unset env accepted")
	}
	if err := (Secret{File: "a", Env: "b"}).Validate("x.token"); err == nil {
		t.Fatal("both file and env accepted")
	}
	if got := (Secret{Env: "TW_TEST_SECRET"}).String(); got != "env:TW_TEST_SECRET" {
		t.Fatalf("String() = %q", got)
	}
}
