package httpin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/record"
)

// Response is the answer to a request that was parsed: 200 when every
// record was accepted, 207 when some were refused (they are in the
// dead-letter topic; sending them again will not help).
type Response struct {
	Accepted   int           `json:"accepted"`             // events acknowledged by Kafka
	Duplicates int           `json:"duplicates,omitempty"` // records repeating an event of the same request, published once
	Rejected   int           `json:"rejected"`             // records refused
	Errors     []RecordError `json:"errors,omitempty"`     // one per refused record, in request order
}

// RecordError says which record was refused and why.
type RecordError struct {
	Index  int    `json:"index"`          // 0-based position of the record in the request
	Line   int    `json:"line,omitempty"` // its line, for NDJSON and CSV bodies
	Reason string `json:"reason"`         // the class: syntax, type, required, unknown_field, utf8, time_window, tenant, …
	Field  string `json:"field,omitempty"`
	Error  string `json:"error"` // "user.id: required"
}

// ErrorResponse is the answer to a request that was not parsed (4xx, 5xx):
// nothing of it was published, except a body that could not be read at
// all, which went to the dead-letter topic (400).
type ErrorResponse struct {
	Error string `json:"error"`
	// Limit is the setting a 413 answer is about: max_body_bytes,
	// max_events, max_event_bytes or max_record_bytes, with its value.
	Limit string `json:"limit,omitempty"`
	Max   int64  `json:"max,omitempty"`
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	label, code := noSource, 0
	defer func() {
		s.m.requests.WithLabelValues(label, strconv.Itoa(code)).Inc()
		s.m.duration.WithLabelValues(label).Observe(s.now().Sub(start).Seconds())
	}()
	fail := func(status int, resp ErrorResponse) {
		code = status
		writeJSON(w, status, resp)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, ErrorResponse{Error: "use POST"})
		return
	}
	src, af := s.identify(r)
	if af != nil {
		s.unauthorized(w, r, af)
		code = http.StatusUnauthorized
		return
	}
	label = src.cfg.Name
	if s.stopping.Load() {
		s.retryLater(w, http.StatusServiceUnavailable, "shutting down")
		code = http.StatusServiceUnavailable
		return
	}
	// A token authenticated the request already; a signature-only
	// source's request is known only once its body has arrived, so it
	// waits in a budget of its own.
	sem, budget := s.sem, "max_in_flight"
	if src.tokenHash == nil {
		sem, budget = s.unverifiedSem, "max_unverified_in_flight"
	}
	if !s.acquire(r.Context(), sem) {
		s.retryLater(w, http.StatusTooManyRequests, "too many requests in flight ("+budget+" "+strconv.Itoa(cap(sem))+"): retry later")
		code = http.StatusTooManyRequests
		return
	}
	defer s.release(sem)

	max := s.cfg.MaxBodyBytes
	if r.ContentLength > max {
		fail(http.StatusRequestEntityTooLarge, ErrorResponse{Error: "body is over max_body_bytes", Limit: "max_body_bytes", Max: max})
		return
	}
	buf := s.body()
	defer s.bodies.Put(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, ErrorResponse{Error: "body is over max_body_bytes", Limit: "max_body_bytes", Max: max})
			return
		}
		fail(http.StatusBadRequest, ErrorResponse{Error: "reading the body: " + err.Error()})
		return
	}
	body := buf.Bytes()
	now := s.now()
	if af := s.verify(src, r, body, now); af != nil {
		s.unauthorized(w, r, af)
		code = http.StatusUnauthorized
		return
	}
	parser, err := src.parserFor(r.URL.Query().Get("format"))
	if err != nil {
		fail(http.StatusBadRequest, ErrorResponse{Error: "format: " + err.Error()})
		return
	}

	b, _ := src.batches.Get().(*ingest.Batch)
	if b == nil {
		b = s.pub.NewBatch(src.cfg.Name, src.origin())
		b.Dedup()
	}
	defer func() { b.Reset(); src.batches.Put(b) }()

	data, err := decompress(body, r.Header.Get("Content-Encoding"), max)
	var shape string
	if err == nil {
		lim := limits{body: max, events: s.cfg.MaxEvents, record: s.cfg.MaxEventBytes, setting: "max_event_bytes"}
		if parser.Format() != ingest.FormatCanonical {
			lim.record, lim.setting = s.cfg.MaxRecordBytes, "max_record_bytes"
		}
		shape, err = eachRecord(data, r.Header.Get("Content-Type"), parser.Kind(), lim, func(rec record.Record, raw []byte, line, index int, rerr error) {
			if rerr != nil {
				b.Reject(raw, line, index, rerr)
				return
			}
			b.Add(parser, rec, raw, now, line, index)
		})
	}
	var le *limitError
	var ee *encodingError
	var be *bodyError
	switch {
	case errors.As(err, &le):
		fail(http.StatusRequestEntityTooLarge, ErrorResponse{Error: le.Error(), Limit: le.Setting, Max: le.Limit})
		return
	case errors.As(err, &ee):
		fail(http.StatusUnsupportedMediaType, ErrorResponse{Error: ee.Error()})
		return
	case errors.As(err, &be):
		// An authenticated body that cannot be read at all is kept, whole
		// (as sent), in the dead-letter topic.
		b.Reset()
		b.Reject(body, 0, 0, ingest.Malformed(be))
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ProduceTimeout)
	err = s.pub.Publish(ctx, b)
	cancel()
	if err != nil {
		s.log.Warn().Err(err).Str("source", label).Int("events", b.Accepted()).Msg("kafka did not acknowledge a request's events: answering 503")
		s.retryLater(w, http.StatusServiceUnavailable, "the events could not be stored (Kafka did not acknowledge them in time): retry later")
		code = http.StatusServiceUnavailable
		return
	}
	if be != nil {
		fail(http.StatusBadRequest, ErrorResponse{Error: be.Error() + " (kept in the dead-letter topic)"})
		return
	}
	s.m.records.WithLabelValues(label).Observe(float64(b.Len()))
	resp := Response{Accepted: b.Accepted(), Duplicates: b.Duplicates(), Rejected: len(b.Rejected())}
	for _, rj := range b.Rejected() {
		re := RecordError{Index: rj.Index, Reason: rj.Reason, Field: rj.Field, Error: rj.Detail}
		if shape == shapeNDJSON || shape == shapeCSV {
			re.Line = rj.Line
		}
		resp.Errors = append(resp.Errors, re)
	}
	code = http.StatusOK
	if resp.Rejected > 0 {
		code = http.StatusMultiStatus
	}
	s.log.Debug().Str("source", label).Int("status", code).Int("accepted", resp.Accepted).Int("rejected", resp.Rejected).Msg("request")
	writeJSON(w, code, resp)
}

// acquire takes one of the in-flight places of sem, waiting up to
// QueueTimeout.
func (s *Server) acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
	default:
		t := time.NewTimer(s.cfg.QueueTimeout)
		defer t.Stop()
		select {
		case sem <- struct{}{}:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	s.m.inFlight.Inc()
	return true
}

func (s *Server) release(sem chan struct{}) {
	<-sem
	s.m.inFlight.Dec()
}

func (s *Server) body() *bytes.Buffer {
	if b, ok := s.bodies.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, af *authFailure) {
	s.m.authFail.WithLabelValues(af.reason).Inc()
	s.log.Debug().Str("reason", af.reason).Str("remote", r.RemoteAddr).Msg("request refused: not authenticated")
	w.Header().Set("WWW-Authenticate", `Bearer realm="trailwatch"`)
	writeJSON(w, http.StatusUnauthorized, ErrorResponse{Error: af.message})
}

func (s *Server) retryLater(w http.ResponseWriter, status int, msg string) {
	secs := int64((s.cfg.RetryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeJSON(w, status, ErrorResponse{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types: cannot fail
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
