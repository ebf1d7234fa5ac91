package email_test

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/email"
)

// FuzzCompose feeds alert text into every field that reaches a header: the
// message must stay one well-formed message with exactly our headers.
func FuzzCompose(f *testing.F) {
	f.Add("Account frozen", "jdoe\r\nBcc: x@evil.example", "acme", "alert-1", "act-1")
	f.Add("é\n\nbody", "", "t\rX-Evil: 1", "", "")
	from, _ := mail.ParseAddress("Trailwatch <alerts@acme.example>")
	to, _ := mail.ParseAddress("oncall@acme.example")
	f.Fuzz(func(t *testing.T, title, summary, tenant, key, action string) {
		msg := email.Compose(from, []*mail.Address{to}, adapter.Notification{Title: title, Summary: summary, Tenant: tenant, Key: key, ActionID: action},
			time.Unix(1_800_000_000, 0))
		m, err := mail.ReadMessage(strings.NewReader(string(msg)))
		if err != nil {
			t.Fatalf("not a message: %v", err)
		}
		for k := range m.Header {
			switch k {
			case "From", "To", "Subject", "Date", "Message-Id", "References", "X-Trailwatch-Alert", "Mime-Version", "Content-Type", "Content-Transfer-Encoding":
			default:
				t.Fatalf("unexpected header %q", k)
			}
		}
		if len(m.Header["Subject"]) != 1 || len(m.Header["To"]) != 1 {
			t.Fatalf("headers %v", m.Header)
		}
	})
}
