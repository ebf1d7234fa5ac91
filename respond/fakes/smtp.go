package fakes

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTP is an in-process SMTP server that speaks enough of RFC 5321 for a
// submission client: EHLO/HELO, STARTTLS (RFC 3207) with a certificate it
// generates, AUTH PLAIN (RFC 4954), MAIL, RCPT, DATA with dot-unstuffing,
// RSET, NOOP and QUIT. It records every message it accepted and takes
// injected reply codes per command.
type SMTP struct {
	ln       net.Listener
	tls      *tls.Config
	roots    *x509.CertPool
	opts     SMTPOptions
	wg       sync.WaitGroup
	mu       sync.Mutex
	messages []Mail
	faults   []smtpFault
	sessions int
}

// SMTPOptions configure the server.
type SMTPOptions struct {
	// User and Password, when set, are the only credentials AUTH PLAIN
	// accepts, and MAIL requires a successful AUTH.
	User, Password string
	// NoSTARTTLS stops the server offering STARTTLS.
	NoSTARTTLS bool
	// Reject lists recipients answered with 550 (no such user).
	Reject []string
}

// Mail is one accepted message.
type Mail struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // sent after STARTTLS
	AuthUser string // who authenticated
}

type smtpFault struct {
	cmd  string // "CONNECT" for the greeting, else the verb
	code int    // 0 with hang: say nothing until the client goes away
	msg  string
	hang bool
	left int
}

// NewSMTP starts the server on a loopback port.
func NewSMTP(tb testing.TB, opts SMTPOptions) *SMTP {
	tb.Helper()
	cert, roots, err := selfSigned()
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &SMTP{ln: ln, roots: roots, opts: opts, tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Host is the server's address without the port (127.0.0.1).
func (s *SMTP) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the server's port.
func (s *SMTP) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// RootCAs trusts the server's certificate.
func (s *SMTP) RootCAs() *x509.CertPool { return s.roots }

// Messages is every accepted message, in order.
func (s *SMTP) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.messages...)
}

// Sessions is how many connections the server accepted.
func (s *SMTP) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Fail answers the next n uses of cmd ("MAIL", "RCPT", "DATA", "AUTH",
// "EHLO", or "CONNECT" for the greeting) with code and msg; a 421 also
// closes the connection, as RFC 5321 §3.8 says.
func (s *SMTP) Fail(cmd string, n, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, smtpFault{cmd: cmd, code: code, msg: msg, left: n})
}

// Hang makes the next n connections get no greeting at all, as a server
// that stopped responding would.
func (s *SMTP) Hang(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, smtpFault{cmd: "CONNECT", hang: true, left: n})
}

func (s *SMTP) fault(cmd string) (smtpFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		if f := &s.faults[i]; f.cmd == cmd && f.left > 0 {
			f.left--
			return *f, true
		}
	}
	return smtpFault{}, false
}

func (s *SMTP) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second)) // a test never needs longer
			s.session(c)
		}()
	}
}

type smtpSession struct {
	s        *SMTP
	conn     net.Conn
	r        *bufio.Reader
	tls      bool
	authUser string
	from     string
	to       []string
	hasMail  bool
}

func (s *SMTP) session(c net.Conn) {
	ss := &smtpSession{s: s, conn: c, r: bufio.NewReader(c)}
	if f, ok := s.fault("CONNECT"); ok {
		if f.hang {
			buf := make([]byte, 1)
			c.Read(buf) // until the client gives up and closes
			return
		}
		ss.reply(f.code, f.msg)
		if f.code == 421 {
			return
		}
	}
	ss.reply(220, "fake.smtp ESMTP Trailwatch test server")
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if f, ok := s.fault(verb); ok {
			ss.reply(f.code, f.msg)
			if f.code == 421 {
				return
			}
			continue
		}
		if !ss.command(verb, arg) {
			return
		}
	}
}

// command handles one command; it returns false when the session ends.
func (ss *smtpSession) command(verb, arg string) bool {
	s := ss.s
	switch verb {
	case "EHLO":
		lines := []string{"fake.smtp greets " + arg, "8BITMIME", "SIZE 10485760"}
		if !s.opts.NoSTARTTLS && !ss.tls {
			lines = append(lines, "STARTTLS")
		}
		if ss.tls || s.opts.NoSTARTTLS {
			lines = append(lines, "AUTH PLAIN")
		}
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			fmt.Fprintf(ss.conn, "250%s%s\r\n", sep, l)
		}
	case "HELO":
		ss.reply(250, "fake.smtp")
	case "STARTTLS":
		if s.opts.NoSTARTTLS || ss.tls {
			ss.reply(502, "5.5.1 STARTTLS not available")
			return true
		}
		ss.reply(220, "2.0.0 Ready to start TLS")
		tc := tls.Server(ss.conn, s.tls)
		if err := tc.Handshake(); err != nil {
			return false
		}
		// RFC 3207 §4.2: forget everything learnt before TLS.
		ss.conn, ss.r, ss.tls = tc, bufio.NewReader(tc), true
		ss.authUser, ss.from, ss.to, ss.hasMail = "", "", nil, false
	case "AUTH":
		mech, initial, _ := strings.Cut(arg, " ")
		if !strings.EqualFold(mech, "PLAIN") {
			ss.reply(504, "5.5.4 Unrecognized authentication type")
			return true
		}
		if !ss.tls && !s.opts.NoSTARTTLS {
			ss.reply(538, "5.7.11 Encryption required for requested authentication mechanism")
			return true
		}
		if initial == "" {
			ss.reply(334, "")
			l, err := ss.r.ReadString('\n')
			if err != nil {
				return false
			}
			initial = strings.TrimRight(l, "\r\n")
		}
		raw, err := base64.StdEncoding.DecodeString(initial)
		parts := strings.Split(string(raw), "\x00")
		if err != nil || len(parts) != 3 || parts[1] != s.opts.User || parts[2] != s.opts.Password {
			ss.reply(535, "5.7.8 Authentication credentials invalid")
			return true
		}
		ss.authUser = parts[1]
		ss.reply(235, "2.7.0 Authentication successful")
	case "MAIL":
		if s.opts.User != "" && ss.authUser == "" {
			ss.reply(530, "5.7.0 Authentication required")
			return true
		}
		addr, ok := pathArg(arg, "FROM:")
		if !ok {
			ss.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
			return true
		}
		ss.from, ss.to, ss.hasMail = addr, nil, true
		ss.reply(250, "2.1.0 OK")
	case "RCPT":
		if !ss.hasMail {
			ss.reply(503, "5.5.1 Error: need MAIL command")
			return true
		}
		addr, ok := pathArg(arg, "TO:")
		if !ok {
			ss.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
			return true
		}
		for _, r := range s.opts.Reject {
			if strings.EqualFold(r, addr) {
				ss.reply(550, "5.1.1 <"+addr+">: Recipient address rejected: User unknown")
				return true
			}
		}
		ss.to = append(ss.to, addr)
		ss.reply(250, "2.1.5 OK")
	case "DATA":
		if len(ss.to) == 0 {
			ss.reply(503, "5.5.1 Error: need RCPT command")
			return true
		}
		ss.reply(354, "End data with <CR><LF>.<CR><LF>")
		var data bytes.Buffer
		for {
			l, err := ss.r.ReadString('\n')
			if err != nil {
				return false
			}
			if l == ".\r\n" {
				break
			}
			data.WriteString(strings.TrimPrefix(l, ".")) // RFC 5321 §4.5.2
		}
		s.mu.Lock()
		s.messages = append(s.messages, Mail{From: ss.from, To: ss.to, Data: data.Bytes(), TLS: ss.tls, AuthUser: ss.authUser})
		s.mu.Unlock()
		ss.from, ss.to, ss.hasMail = "", nil, false
		ss.reply(250, "2.0.0 OK: queued as "+strconv.Itoa(len(s.Messages())))
	case "RSET":
		ss.from, ss.to, ss.hasMail = "", nil, false
		ss.reply(250, "2.0.0 OK")
	case "NOOP":
		ss.reply(250, "2.0.0 OK")
	case "QUIT":
		ss.reply(221, "2.0.0 Bye")
		return false
	default:
		ss.reply(502, "5.5.2 Error: command not recognized")
	}
	return true
}

func (ss *smtpSession) reply(code int, msg string) {
	fmt.Fprintf(ss.conn, "%d %s\r\n", code, msg)
}

// pathArg reads "FROM:<addr> [params]" or "TO:<addr>".
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake.smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
