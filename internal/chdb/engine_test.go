package chdb

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func openTest(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(Options{Path: t.TempDir()})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestQuery(t *testing.T) {
	e := openTest(t)
	out, st, err := e.Query(t.Context(), "SELECT number FROM system.numbers LIMIT 3", "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "0\n1\n2\n" {
		t.Fatalf("got %q", got)
	}
	if st.RowsRead != 3 {
		t.Errorf("rows read = %d, want 3", st.RowsRead)
	}
}

func TestQueryError(t *testing.T) {
	e := openTest(t)
	_, _, err := e.Query(t.Context(), "SELECT * FROM no_such_table", "CSV")
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	if ce.Code != 60 {
		t.Errorf("code = %d, want 60 (UNKNOWN_TABLE): %s", ce.Code, ce.Message)
	}
	if !strings.HasPrefix(ce.Message, "Code: 60.") {
		t.Errorf("message %q", ce.Message)
	}
}

func TestStream(t *testing.T) {
	e := openTest(t)
	c, err := e.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	s, err := c.Stream("SELECT number FROM system.numbers LIMIT 1000000", "TSV")
	if err != nil {
		t.Fatal(err)
	}
	var n, chunks int
	for {
		b, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		n += strings.Count(string(b), "\n")
	}
	s.Close()
	if n != 1000000 {
		t.Fatalf("rows = %d", n)
	}
	t.Logf("chunks=%d stats=%+v", chunks, s.Stats())
}

func TestParams(t *testing.T) {
	e := openTest(t)
	out, _, err := e.Query(t.Context(), "SELECT {s:String}, {n:UInt8} + 1", "TSV",
		Param{"s", "it's a 'test'; DROP TABLE x"}, Param{"n", "41"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "it\\'s a \\'test\\'; DROP TABLE x\t42\n"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	// Parameters do not outlive the call.
	if _, _, err := e.Query(t.Context(), "SELECT {s:String}", "TSV"); err == nil {
		t.Fatal("parameter leaked into the next statement")
	}
}

func TestSecondOpenRefused(t *testing.T) {
	e := openTest(t)
	if _, err := Open(Options{Path: t.TempDir()}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second open in one process: got %v, want ErrBusy", err)
	}
	_ = e
}

func TestReopenOtherPath(t *testing.T) {
	for i := range 3 {
		e, err := Open(Options{Path: t.TempDir()})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if _, _, err := e.Query(t.Context(), "SELECT 1", "CSV"); err != nil {
			t.Fatal(err)
		}
		e.Close()
	}
}
