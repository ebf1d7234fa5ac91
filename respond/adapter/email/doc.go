// Package email sends notifications over SMTP (RFC 5321) with STARTTLS
// (RFC 3207) or implicit TLS and AUTH PLAIN, using net/smtp on a
// connection whose dial, handshake and every command are bounded by the
// caller's context and a timeout.
package email
