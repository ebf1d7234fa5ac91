package email_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/email"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

func config(t *testing.T, s *fakes.SMTP, password string) email.Config {
	t.Helper()
	t.Setenv("TW_TEST_SMTP_PASSWORD", password)
	cfg := email.DefaultConfig()
	cfg.Host, cfg.Port = s.Host(), s.Port()
	cfg.Username = "trailwatch"
	cfg.Password = adapter.Secret{Env: "TW_TEST_SMTP_PASSWORD"}
	cfg.From = "Trailwatch <alerts@acme.example>"
	cfg.To = []string{"oncall@acme.example", "Sec Team <sec@acme.example>"}
	cfg.Timeout = 2 * time.Second
	return cfg
}

var note = adapter.Notification{Key: "alert-9", Severity: "critical", Title: "Account frozen",
	Summary: "jdöe exported 5000 contacts\r\nBcc: attacker@evil.example", Tenant: "acme", Target: "005xx", ActionID: "act-9"}

func TestDeliversOverSTARTTLSWithAuth(t *testing.T) {
	s := fakes.NewSMTP(t, fakes.SMTPOptions{User: "trailwatch", Password: "pw"})
	c, err := email.New(config(t, s, "pw"), s.RootCAs())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Notify(t.Context(), note); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	m := s.Messages()
	if len(m) != 1 {
		t.Fatalf("%d messages", len(m))
	}
	if !m[0].TLS || m[0].AuthUser != "trailwatch" || m[0].From != "alerts@acme.example" ||
		strings.Join(m[0].To, ",") != "oncall@acme.example,sec@acme.example" {
		t.Fatalf("envelope %+v", m[0])
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m[0].Data)))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	subject, _ := new(mimeDecoder).decode(msg.Header.Get("Subject"))
	if subject != "[Trailwatch] critical Account frozen (acme)" || msg.Header.Get("Bcc") != "" || msg.Header.Get("X-Trailwatch-Alert") != "alert-9" {
		t.Fatalf("headers %v (subject %q)", msg.Header, subject)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name    string
		opts    fakes.SMTPOptions
		pw      string
		fail    func(*fakes.SMTP)
		tlsMode string
		kind    adapter.Kind
		text    string
	}{
		{name: "wrong password", opts: fakes.SMTPOptions{User: "trailwatch", Password: "pw"}, pw: "nope", kind: adapter.KindAuth, text: "535"},
		{name: "no STARTTLS offered", opts: fakes.SMTPOptions{User: "trailwatch", Password: "pw", NoSTARTTLS: true}, pw: "pw", kind: adapter.KindPermanent, text: "refusing to send in the clear"},
		{name: "recipient rejected", opts: fakes.SMTPOptions{User: "trailwatch", Password: "pw", Reject: []string{"sec@acme.example"}}, pw: "pw", kind: adapter.KindInvalid, text: "User unknown"},
		{name: "greylisted", opts: fakes.SMTPOptions{User: "trailwatch", Password: "pw"}, pw: "pw", fail: func(s *fakes.SMTP) { s.Fail("MAIL", 1, 451, "4.7.1 Try again later") }, kind: adapter.KindRetryable, text: "Try again later"},
		{name: "service closing", opts: fakes.SMTPOptions{User: "trailwatch", Password: "pw"}, pw: "pw", fail: func(s *fakes.SMTP) { s.Fail("CONNECT", 1, 421, "4.3.2 Service shutting down") }, kind: adapter.KindRetryable, text: "421"},
		{name: "server hangs", opts: fakes.SMTPOptions{User: "trailwatch", Password: "pw"}, pw: "pw", fail: func(s *fakes.SMTP) { s.Hang(1) }, kind: adapter.KindRetryable, text: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakes.NewSMTP(t, tt.opts)
			cfg := config(t, s, tt.pw)
			if tt.name == "server hangs" {
				cfg.Timeout = 100 * time.Millisecond
			}
			c, err := email.New(cfg, s.RootCAs())
			if err != nil {
				t.Fatal(err)
			}
			if tt.fail != nil {
				tt.fail(s)
			}
			err = c.Notify(t.Context(), note)
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want kind %v containing %q", err, tt.kind, tt.text)
			}
			if len(s.Messages()) != 0 {
				t.Fatal("a failed delivery was accepted")
			}
		})
	}
}

func TestUntrustedCertificateIsRefused(t *testing.T) {
	s := fakes.NewSMTP(t, fakes.SMTPOptions{User: "trailwatch", Password: "pw"})
	other := fakes.NewSMTP(t, fakes.SMTPOptions{})
	c, err := email.New(config(t, s, "pw"), other.RootCAs()) // trusts a different certificate
	if err != nil {
		t.Fatal(err)
	}
	err = c.Notify(t.Context(), note)
	if !errors.Is(err, adapter.ErrAuth) || len(s.Messages()) != 0 {
		t.Fatalf("err = %v, want the certificate refused and nothing sent", err)
	}
}

func TestValidate(t *testing.T) {
	cfg := email.Config{Port: 0, TLS: "none", Host: "mail.acme.example", From: "not an address", To: []string{"ok@acme.example", "bad"}, Username: "u"}
	err := cfg.Validate("notifiers.mail")
	for _, want := range []string{"notifiers.mail.port", "notifiers.mail.tls: none is allowed only for a loopback relay", "notifiers.mail.password", "notifiers.mail.from", "notifiers.mail.to[1]", "notifiers.mail.timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; missing %s", err, want)
		}
	}
}
