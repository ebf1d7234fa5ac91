package report

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDeliver(t *testing.T) {
	r := &Result{Name: "r", Title: "R", Tenant: "acme", To: time.Now(), GeneratedAt: time.Now(),
		Sections: []SectionResult{{Title: "a", Columns: []string{"x", "y"}, Rows: [][]string{{"1", "a,b"}}}, {Title: "b"}}}
	files, err := r.Files("csv")
	if err != nil || string(files["r-1.csv"]) != "x,y\n1,\"a,b\"\n" || len(files) != 2 {
		t.Fatalf("files %q %v", files, err)
	}
	if _, err := r.Files("pdf"); err == nil {
		t.Error("pdf accepted")
	}
	paths, err := WriteDir(t.TempDir(), "../acme", time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC), files)
	if err != nil || len(paths) != 2 {
		t.Fatal(paths, err)
	}
	for _, p := range paths {
		if !strings.Contains(p, "/acme/20261110T120000Z/r-") {
			t.Errorf("path %s", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}

	var mu sync.Mutex
	got := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		got[req.Header.Get("X-Trailwatch-Report-File")] = req.Header.Get("Content-Type") + " " + string(b)
		mu.Unlock()
		if strings.Contains(req.URL.Path, "fail") {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	html, _ := r.Files("html")
	if err := Post(t.Context(), srv.Client(), srv.URL+"/ok", html); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got["r.html"], "text/html; charset=utf-8 <!DOCTYPE html>") {
		t.Errorf("posted %q", got["r.html"])
	}
	if err := Post(t.Context(), srv.Client(), srv.URL+"/fail", html); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("a failing webhook: %v", err)
	}
}
