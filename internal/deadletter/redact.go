package deadletter

import "strings"

// Redacted stands in for a quoted value in a reason.
const Redacted = "…"

// RedactReason replaces the contents of every double-quoted string in a
// reason with Redacted, keeping the quotes: `client.ip: "10.0.0.x" is not
// an IPv4 or IPv6 address` becomes `client.ip: "…" is not an IPv4 or
// IPv6 address`. Decoders quote the offending value into their errors
// (schemas/event quotes up to 64 bytes of it), and that value may be a
// name, an address or a card number typed into the wrong field; the
// reason is a column, a log field and a report row, so it says where and
// why, never what. The input itself is in the record's raw, where it can
// be masked (the sink does) and is kept only as long as the topic keeps it.
// A quote left open runs to the end.
func RedactReason(s string) string {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i+1])
		s = s[i+1:]
		end := closingQuote(s)
		b.WriteString(Redacted)
		if end < 0 {
			b.WriteByte('"')
			return b.String()
		}
		b.WriteByte('"')
		s = s[end+1:]
		i = strings.IndexByte(s, '"')
	}
	b.WriteString(s)
	return b.String()
}

// closingQuote is the index of the '"' that ends a Go-quoted string whose
// opening quote preceded s (backslash escapes skipped), or -1.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
