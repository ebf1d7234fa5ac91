package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Files renders r in format (csv: one file per section; html: one page)
// and returns file name → content.
func (r *Result) Files(format string) (map[string][]byte, error) {
	out := map[string][]byte{}
	switch format {
	case "csv":
		for i := range r.Sections {
			var b bytes.Buffer
			if err := r.WriteCSV(&b, i); err != nil {
				return nil, err
			}
			out[r.CSVName(i)] = b.Bytes()
		}
	case "html":
		var b bytes.Buffer
		if err := r.WriteHTML(&b); err != nil {
			return nil, err
		}
		out[r.Name+".html"] = b.Bytes()
	default:
		return nil, fmt.Errorf("format %q, want csv or html", format)
	}
	return out, nil
}

// WriteDir writes files into dir/<tenant>/<UTC time>/, each atomically
// (a temporary file renamed into place), and returns the paths.
func WriteDir(dir, tenant string, at time.Time, files map[string][]byte) ([]string, error) {
	sub := filepath.Join(dir, filepath.Base(tenant), at.UTC().Format("20060102T150405Z"))
	if err := os.MkdirAll(sub, 0o750); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	var paths []string
	for name, b := range files {
		p := filepath.Join(sub, name)
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, b, 0o640); err != nil {
			return paths, fmt.Errorf("writing %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, p); err != nil {
			return paths, fmt.Errorf("writing %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Post sends each file to url in its own POST (Content-Type text/csv or
// text/html, the file name in X-Trailwatch-Report-File); any status but
// 2xx is an error.
func Post(ctx context.Context, client *http.Client, url string, files map[string][]byte) error {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	for name, b := range files {
		ct := "text/csv; charset=utf-8"
		if filepath.Ext(name) == ".html" {
			ct = "text/html; charset=utf-8"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("report webhook: %w", err)
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Trailwatch-Report-File", name)
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("report webhook: posting %s: %w", name, err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("report webhook: posting %s: HTTP %d", name, res.StatusCode)
		}
	}
	return nil
}
