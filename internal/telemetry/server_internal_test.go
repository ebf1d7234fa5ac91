package telemetry

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// TestSlowBodyIsCutOff: a client that starts a request body and stops
// sending (or trickles it) must not hold its connection and goroutine for
// ever. Without a read timeout the server, after answering, waits to
// discard the rest of the body with no deadline: one such client per file
// descriptor starves /metrics and /readyz (and the liveness probe with
// them). The timeout is the server's own, shortened here only to keep
// the test quick.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := NewServer("127.0.0.1:0", prometheus.NewRegistry(), zerolog.Nop())
	if s.srv.ReadTimeout <= 0 {
		t.Fatalf("the telemetry server has no read timeout (%s)", s.srv.ReadTimeout)
	}
	s.srv.ReadTimeout = 200 * time.Millisecond
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The guard of the test itself, far beyond the server's timeout.
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_, err = br.ReadByte()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server still holds the connection of a client that stopped sending its body")
	}
}
