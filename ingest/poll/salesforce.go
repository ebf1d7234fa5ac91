package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/salesforce"
	"github.com/trailwatch/trailwatch/internal/deadletter"
)

// sfCursor is the Salesforce poller's checkpoint. Files are read in
// CreatedDate order; Created and IDs say which were read whole (every file
// created before Created, and those in IDs created at Created), File and
// Rows how far the file being read got.
type sfCursor struct {
	Created time.Time `json:"created"`
	IDs     []string  `json:"ids,omitempty"`
	File    string    `json:"file,omitempty"`
	Rows    int       `json:"rows,omitempty"` // records of File acknowledged (rows and refused lines)
}

// done reports whether file f was read whole already.
func (c *sfCursor) done(f elfFile) bool {
	return f.Created.Before(c.Created) || f.Created.Equal(c.Created) && slices.Contains(c.IDs, f.ID)
}

// elfFile is one EventLogFile record.
type elfFile struct {
	ID, EventType, Interval string
	Created, LogDate        time.Time
	Sequence                int
}

type sfPoller struct {
	p       *Poller
	v       *sfVendor
	parsers map[string]*ingest.Parser // by event type
}

func newSalesforce(p *Poller) (*sfPoller, error) {
	sf := &sfPoller{p: p, v: &sfVendor{max: p.cfg.MaxAPIUsage}, parsers: map[string]*ingest.Parser{}}
	for _, t := range p.cfg.EventTypes {
		src := p.cfg.Source
		src.Format = elfFormats[t]
		parser, err := ingest.NewParser(src, "", ingest.DefaultLimits())
		if err != nil {
			return nil, err
		}
		sf.parsers[t] = parser
	}
	p.c.v = sf.v
	return sf, nil
}

// catchUp reads every log file created since the cursor, in CreatedDate
// order, and stops early (until the next interval) when the org's API
// usage passes MaxAPIUsage.
func (sf *sfPoller) catchUp(ctx context.Context) error {
	p := sf.p
	cur := sfCursor{Created: p.now().Add(-p.cfg.Start).UTC().Truncate(time.Second)}
	if _, err := p.store.Load(p.checkpointName(), &cur); err != nil {
		return err
	}
	files, err := sf.list(ctx, cur.Created)
	if err != nil {
		return err
	}
	for _, f := range files {
		if cur.done(f) {
			continue
		}
		if sf.v.overBudget() {
			p.log.Warn().Float64("api_usage", sf.v.usage()).Msg("the org's API usage is over max_api_usage: pausing until the next interval")
			return nil
		}
		skip := 0
		if cur.File == f.ID {
			skip = cur.Rows
		}
		if err := sf.read(ctx, f, skip, &cur); err != nil {
			return fmt.Errorf("EventLogFile %s (%s, %s): %w", f.ID, f.EventType, f.LogDate.Format(time.RFC3339), err)
		}
		if f.Created.After(cur.Created) {
			cur.Created, cur.IDs = f.Created, nil
		}
		cur.IDs = append(cur.IDs, f.ID)
		cur.File, cur.Rows = "", 0
		if err := p.save(&cur, cur.Created); err != nil {
			return err
		}
	}
	return nil
}

// list queries the EventLogFile records created at or after since (to the
// second: SOQL date-time literals have no fraction), following
// nextRecordsUrl, and returns them in (CreatedDate, Id) order.
func (sf *sfPoller) list(ctx context.Context, since time.Time) ([]elfFile, error) {
	cfg := &sf.p.cfg
	types := make([]string, len(cfg.EventTypes))
	for i, t := range cfg.EventTypes {
		types[i] = "'" + t + "'"
	}
	soql := "SELECT Id, EventType, LogDate, Interval, Sequence, CreatedDate FROM EventLogFile" +
		" WHERE Interval = '" + cfg.LogInterval + "' AND EventType IN (" + strings.Join(types, ",") + ")" +
		" AND CreatedDate >= " + since.UTC().Format("2006-01-02T15:04:05Z") +
		" ORDER BY CreatedDate ASC, Id ASC"
	path := "/services/data/" + cfg.APIVersion + "/query?q=" + url.QueryEscape(soql)
	var files []elfFile
	for path != "" {
		var page struct {
			Done           bool              `json:"done"`
			NextRecordsURL string            `json:"nextRecordsUrl"`
			Records        []json.RawMessage `json:"records"`
		}
		if err := sf.getJSON(ctx, "query EventLogFile", path, &page); err != nil {
			return nil, err
		}
		for _, raw := range page.Records {
			f, err := parseELFRecord(raw)
			if err != nil {
				return nil, fmt.Errorf("query EventLogFile: %w", err)
			}
			files = append(files, f)
		}
		path = ""
		if !page.Done {
			if page.NextRecordsURL == "" {
				return nil, errors.New("query EventLogFile: done is false but nextRecordsUrl is missing")
			}
			path = page.NextRecordsURL
		}
	}
	slices.SortFunc(files, func(a, b elfFile) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return files, nil
}

func parseELFRecord(raw json.RawMessage) (elfFile, error) {
	obj, err := record.ParseObject(raw)
	if err != nil {
		return elfFile{}, err
	}
	var f elfFile
	if f.ID, err = obj.RequiredString("Id"); err != nil {
		return elfFile{}, err
	}
	if f.EventType, err = obj.RequiredString("EventType"); err != nil {
		return elfFile{}, err
	}
	f.Interval, _ = obj.String("Interval")
	if f.Created, err = salesforce.RequiredTime(obj, "CreatedDate"); err != nil {
		return elfFile{}, err
	}
	if f.LogDate, _, err = salesforce.Time(obj, "LogDate"); err != nil {
		return elfFile{}, err
	}
	if n, ok, err := obj.Int("Sequence"); err == nil && ok {
		f.Sequence = int(n)
	}
	return f, nil
}

// read downloads one file's CSV and publishes its records after the first
// skip, saving the cursor after every batch.
func (sf *sfPoller) read(ctx context.Context, f elfFile, skip int, cur *sfCursor) error {
	p := sf.p
	parser := sf.parsers[f.EventType]
	if parser == nil {
		return fmt.Errorf("event type %s was not asked for", f.EventType)
	}
	path := "/services/data/" + p.cfg.APIVersion + "/sobjects/EventLogFile/" + url.PathEscape(f.ID) + "/LogFile"
	resp, err := p.c.do(ctx, "download EventLogFile", func(ctx context.Context, tok token) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, tok.instance+path, nil)
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	origin := deadletter.Origin{Source: p.cfg.Name, Collector: "api", Tenant: p.cfg.Tenant, File: "EventLogFile/" + f.ID}
	b := p.pub.NewBatch(p.cfg.Name, origin)
	cr, err := record.NewCSVReader(resp.Body)
	if err != nil {
		if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "input is empty") {
			return nil // an empty file: nothing to read
		}
		return err
	}
	n := 0
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		if err := p.publish(ctx, b); err != nil {
			return err
		}
		cur.File, cur.Rows = f.ID, n
		b.Reset()
		return p.save(cur, cur.Created)
	}
	for {
		row, err := cr.Next()
		if err == io.EOF {
			break
		}
		var le *record.LineError
		if err != nil && !errors.As(err, &le) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("reading the CSV after %d records: %w", n, err)
		}
		if n++; n <= skip {
			continue
		}
		if le != nil {
			b.Reject(cr.Raw(), le.Line, n-1, le)
		} else {
			b.Add(parser, record.Record{Row: row, Line: row.Line}, cr.Raw(), p.now(), row.Line, n-1)
		}
		if b.Len() >= p.cfg.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			if err := flush(); err != nil {
				return err
			}
			return ctx.Err()
		}
	}
	return flush()
}

func (sf *sfPoller) getJSON(ctx context.Context, what, path string, v any) error {
	resp, err := sf.p.c.do(ctx, what, func(ctx context.Context, tok token) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, tok.instance+path, nil)
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", what, err)
	}
	return nil
}

// sfVendor reads Salesforce's answers: 401 is an ended session
// (INVALID_SESSION_ID); REQUEST_LIMIT_EXCEEDED (403) is the org's API limit;
// 429 and 503 may carry Retry-After. Sforce-Limit-Info (api-usage=used/max)
// on every answer tells how much of the org's daily API requests is used.
type sfVendor struct {
	max  float64
	used atomic.Uint64 // float64 bits of the last usage fraction
}

func (v *sfVendor) classify(resp *http.Response, body []byte) (verdict, time.Duration) {
	v.observe(resp)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return expired, 0
	case resp.StatusCode == http.StatusForbidden && bytes.Contains(body, []byte("REQUEST_LIMIT_EXCEEDED")):
		return rateLimited, 0
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return rateLimited, retryAfter(resp.Header, time.Now())
	case resp.StatusCode >= 500:
		return transient, 0
	}
	return fail, 0
}

func (v *sfVendor) observe(resp *http.Response) time.Duration {
	info := resp.Header.Get("Sforce-Limit-Info")
	if u, ok := strings.CutPrefix(info, "api-usage="); ok {
		used, limit, _ := strings.Cut(u, "/")
		a, err1 := strconv.ParseFloat(strings.TrimSpace(used), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(limit), 64)
		if err1 == nil && err2 == nil && b > 0 {
			v.used.Store(math.Float64bits(a / b))
		}
	}
	return 0
}

func (v *sfVendor) usage() float64   { return math.Float64frombits(v.used.Load()) }
func (v *sfVendor) overBudget() bool { return v.usage() >= v.max }
