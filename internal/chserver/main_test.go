package chserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// One engine per process (libchdb allows no more), one server for every
// test in this package. Tests use their own tables.
var (
	testSrv *Server
	testURL string
	testReg *prometheus.Registry
)

const (
	readerPassword = "r3ader-secret"
	writerPassword = "wr1ter-secret"
	adminPassword  = "adm1n-secret"
)

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chserver-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	eng, err := chdb.Open(chdb.Options{Path: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "chserver tests need libchdb (make deps):", err)
		return 1
	}
	defer eng.Close()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.QueueSize = 128
	cfg.Users = []User{
		{Name: "default", Role: RoleAdmin},
		{Name: "admin", Role: RoleAdmin, PasswordSHA256Hex: sha(adminPassword)},
		{Name: "reader", Role: RoleReader, PasswordSHA256Hex: sha(readerPassword)},
		{Name: "writer", Role: RoleWriter, PasswordSHA256Hex: sha(writerPassword)},
		{Name: "acme", Role: RoleReader, Tenant: "acme", PasswordSHA256Hex: sha(readerPassword)},
		{Name: "quoted", Role: RoleReader, Tenant: `o'ne\il`, PasswordSHA256Hex: sha(readerPassword)},
		{Name: "auditor", Role: RoleAuditor, PasswordSHA256Hex: sha(readerPassword)},
		{Name: "acme_auditor", Role: RoleAuditor, Tenant: "acme", PasswordSHA256Hex: sha(readerPassword)},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testReg = prometheus.NewRegistry()
	testSrv, err = New(ctx, eng, cfg, zerolog.Nop(), testReg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := testSrv.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testURL = testSrv.URL()
	done := make(chan error, 1)
	go func() { done <- testSrv.Serve(ctx) }()
	code := m.Run()
	cancel()
	<-done
	return code
}
