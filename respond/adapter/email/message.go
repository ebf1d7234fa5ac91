package email

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Compose builds an RFC 5322 message for n: UTF-8 text, quoted-printable,
// a Q-encoded subject. Header values never carry CR or LF, so alert text
// cannot inject headers.
func Compose(from *mail.Address, to []*mail.Address, n adapter.Notification, now time.Time) []byte {
	var b bytes.Buffer
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	subject := "[Trailwatch]"
	if n.Event == adapter.EventResolve {
		subject += " Resolved:"
	} else if n.Severity != "" {
		subject += " " + n.Severity
	}
	subject += " " + n.Title
	if n.Tenant != "" {
		subject += " (" + n.Tenant + ")"
	}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", strings.Join(tos, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<%d.%s@trailwatch>", now.UnixNano(), token(n.ActionID+n.Key)))
	if n.Key != "" {
		// Mail clients thread every notification of one alert together.
		ref := "<" + token(n.Key) + "@alert.trailwatch>"
		header("References", ref)
		header("X-Trailwatch-Alert", token(n.Key))
	}
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	var body strings.Builder
	body.WriteString(n.Title + "\n\n")
	if n.Summary != "" {
		body.WriteString(n.Summary + "\n\n")
	}
	fields := map[string]string{"tenant": n.Tenant, "account": n.Target, "severity": n.Severity, "alert": n.Key, "action": n.ActionID}
	for k, v := range n.Details {
		fields[k] = v
	}
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&body, "%s: %s\n", k, fields[k])
	}
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n")))
	qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// token keeps only characters safe inside a Message-ID or header.
func token(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "n"
	}
	return b.String()
}
