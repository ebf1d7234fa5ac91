package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "email"

// Client delivers notifications to the configured recipients.
type Client struct {
	cfg      Config
	from     *mail.Address
	to       []*mail.Address
	password string
	tls      *tls.Config
	now      func() time.Time
}

// New returns a client. rootCAs, when not nil, replaces the system pool
// and ca_file (tests pass the stand-in's).
func New(cfg Config, rootCAs *x509.CertPool) (*Client, error) {
	if err := cfg.Validate("email"); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, now: time.Now}
	c.from, _ = mail.ParseAddress(cfg.From)
	for _, t := range cfg.To {
		a, _ := mail.ParseAddress(t)
		c.to = append(c.to, a)
	}
	if cfg.Username != "" {
		p, err := cfg.Password.Load()
		if err != nil {
			return nil, fmt.Errorf("email password: %w", err)
		}
		c.password = p
	}
	if rootCAs == nil && cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email ca_file: %w", err)
		}
		rootCAs = x509.NewCertPool()
		if !rootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("email ca_file %s: no PEM certificates", cfg.CAFile)
		}
	}
	c.tls = &tls.Config{ServerName: cfg.Host, RootCAs: rootCAs, MinVersion: tls.VersionTLS12}
	return c, nil
}

// Notify sends n as one message to every recipient.
func (c *Client) Notify(ctx context.Context, n adapter.Notification) error {
	msg := Compose(c.from, c.to, n, c.now())
	if err := c.deliver(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// deliver runs one SMTP transaction. The whole exchange shares one
// deadline (the context's or the timeout, whichever is sooner), and a
// cancelled context cuts the connection at once.
func (c *Client) deliver(ctx context.Context, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if c.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	sc, err := smtp.NewClient(conn, c.cfg.Host)
	if err != nil {
		return err
	}
	defer sc.Close()
	if err := sc.Hello(c.cfg.HeloName); err != nil {
		return err
	}
	if c.cfg.TLS == TLSStartTLS {
		if ok, _ := sc.Extension("STARTTLS"); !ok {
			return errNoStartTLS
		}
		if err := sc.StartTLS(c.tls); err != nil {
			return err
		}
	}
	if c.cfg.Username != "" {
		if err := sc.Auth(smtp.PlainAuth("", c.cfg.Username, c.password, c.cfg.Host)); err != nil {
			return err
		}
	}
	if err := sc.Mail(c.from.Address); err != nil {
		return err
	}
	for _, t := range c.to {
		if err := sc.Rcpt(t.Address); err != nil {
			return err
		}
	}
	w, err := sc.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return sc.Quit()
}

var errNoStartTLS = errors.New("server does not offer STARTTLS; refusing to send in the clear")

// classify maps SMTP replies (RFC 5321 §4.2.1) onto adapter kinds: 4yz is
// transient, 5yz permanent, 530/534/535/538 authentication.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &adapter.Error{Vendor: vendorName, Op: "notify", Status: te.Code, Message: adapter.Clip(te.Msg)}
		switch {
		case te.Code >= 400 && te.Code < 500:
			e.Kind = adapter.KindRetryable
		case te.Code == 530 || te.Code == 534 || te.Code == 535 || te.Code == 538:
			e.Kind = adapter.KindAuth
		case te.Code == 501 || te.Code == 550 || te.Code == 553:
			e.Kind = adapter.KindInvalid
		default:
			e.Kind = adapter.KindPermanent
		}
		return e
	}
	if errors.Is(err, errNoStartTLS) {
		return &adapter.Error{Vendor: vendorName, Op: "notify", Kind: adapter.KindPermanent, Message: err.Error()}
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return &adapter.Error{Vendor: vendorName, Op: "notify", Kind: adapter.KindAuth, Message: "server certificate not trusted", Err: err}
	}
	return adapter.Transport(vendorName, "notify", err)
}
