package oncall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// API serves the on-call operations over HTTP, every request authenticated
// by an approver's bearer token; the approver's name is the actor recorded.
//
//	GET  /v1/actions?status=awaiting_approval&tenant=acme&since=24h
//	GET  /v1/actions/{id}
//	POST /v1/actions/{id}/approve
//	POST /v1/actions/{id}/reject   {"reason": "expected: pen test"}
//	POST /v1/actions/{id}/undo
//
// Answers are JSON; errors are {"error": "…"} with 400 (bad request), 401
// (no or wrong token), 403 (an action on the approver's own account), 404
// (unknown action, or another tenant's), 409 (not possible in the action's
// state, e.g. approved already) or 502 (Kafka unreachable).
type API struct {
	svc       *Service
	approvers *Approvers
	log       zerolog.Logger
	requests  *prometheus.CounterVec
	mux       *http.ServeMux
}

// NewAPI returns the handler.
func NewAPI(svc *Service, approvers *Approvers, log zerolog.Logger, reg prometheus.Registerer) (*API, error) {
	requests, err := telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_respond_api_requests_total",
		Help: "Approval API requests, by operation (list, show, approve, reject, undo; method and unknown for requests refused before one) and HTTP status code.",
	}, []string{"op", "code"}))
	if err != nil {
		return nil, err
	}
	a := &API{svc: svc, approvers: approvers, log: log.With().Str("component", "approval-api").Logger(), requests: requests, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /v1/actions", a.auth("list", a.list))
	a.mux.HandleFunc("GET /v1/actions/{id}", a.auth("show", a.show))
	a.mux.HandleFunc("POST /v1/actions/{id}/approve", a.auth("approve", a.approve))
	a.mux.HandleFunc("POST /v1/actions/{id}/reject", a.auth("reject", a.reject))
	a.mux.HandleFunc("POST /v1/actions/{id}/undo", a.auth("undo", a.undo))
	// Other methods and paths answer in JSON too (the mux's own answers
	// are plain text), with the methods allowed.
	for path, allow := range map[string]string{
		"/v1/actions": "GET, HEAD", "/v1/actions/{id}": "GET, HEAD",
		"/v1/actions/{id}/approve": "POST", "/v1/actions/{id}/reject": "POST", "/v1/actions/{id}/undo": "POST",
	} {
		a.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			a.answer(w, "method", http.StatusMethodNotAllowed, errorBody("method "+r.Method+" is not allowed here; allowed: "+allow))
		})
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.answer(w, "unknown", http.StatusNotFound, errorBody("no such endpoint; the API is under /v1/actions"))
	})
	return a, nil
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type handlerFunc func(w http.ResponseWriter, r *http.Request, actor string) (int, any)

// auth authenticates the request, runs h, and writes its answer.
func (a *API) auth(op string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.approvers.Authenticate(r.Header.Get("Authorization"))
		var (
			code int
			body any
		)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trailwatch"`)
			code, body = http.StatusUnauthorized, errorBody("a valid bearer token is required")
			a.log.Warn().Str("op", op).Str("remote", r.RemoteAddr).Msg("approval API request without a valid token")
		} else {
			code, body = h(w, r, actor)
		}
		a.answer(w, op, code, body)
	}
}

// serviceFor is the service as approver actor may use it: their tenants,
// not their own accounts.
func (a *API) serviceFor(actor string) *Service {
	return a.svc.For(a.approvers.Tenants(actor), a.approvers.Accounts(actor))
}

// answer writes a JSON answer and counts it.
func (a *API) answer(w http.ResponseWriter, op string, code int, body any) {
	a.requests.WithLabelValues(op, fmt.Sprint(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

type errorJSON struct {
	Error string `json:"error"`
}

func errorBody(msg string) errorJSON { return errorJSON{Error: msg} }

// fail maps a service error to its status code.
func (a *API) fail(op, id, actor string, err error) (int, any) {
	code := http.StatusBadGateway
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		code = http.StatusConflict
	case errors.Is(err, ErrOwnAccount):
		code = http.StatusForbidden
	default:
		a.log.Error().Err(err).Str("op", op).Str("action_id", id).Str("actor", actor).Msg("approval API operation failed")
	}
	return code, errorBody(err.Error())
}

type listJSON struct {
	Actions []alert.Action `json:"actions"`
}

func (a *API) list(_ http.ResponseWriter, r *http.Request, actor string) (int, any) {
	q := r.URL.Query()
	f := Filter{Tenant: q.Get("tenant"), Status: q.Get("status"), Type: q.Get("type")}
	if s := q.Get("since"); s != "" {
		t, err := ParseSince(s, a.svc.now())
		if err != nil {
			return http.StatusBadRequest, errorBody("since: " + err.Error())
		}
		// Each list reads the actions topic from since: a caller may not
		// make the service read further back than its history horizon
		// (the default when since is absent).
		if horizon := a.svc.now().Add(-a.svc.lookBack); t.Before(horizon) {
			return http.StatusBadRequest, errorBody(fmt.Sprintf("since: %s is before the history horizon (%s back, %s)", s, a.svc.lookBack, horizon.UTC().Format(time.RFC3339)))
		}
		f.Since = t
	}
	acts, err := a.serviceFor(actor).List(r.Context(), f)
	if err != nil {
		return a.fail("list", "", "", err)
	}
	out := listJSON{Actions: make([]alert.Action, len(acts))}
	for i, x := range acts {
		out.Actions[i] = x.Current
	}
	return http.StatusOK, out
}

func (a *API) show(_ http.ResponseWriter, r *http.Request, actor string) (int, any) {
	id := r.PathValue("id")
	act, err := a.serviceFor(actor).Show(r.Context(), id)
	if err != nil {
		return a.fail("show", id, "", err)
	}
	return http.StatusOK, act
}

type recordJSON struct {
	Record alert.Action `json:"record"`
}

func (a *API) approve(_ http.ResponseWriter, r *http.Request, actor string) (int, any) {
	id := r.PathValue("id")
	rec, err := a.serviceFor(actor).Approve(r.Context(), id, actor)
	if err != nil {
		return a.fail("approve", id, actor, err)
	}
	a.log.Info().Str("action_id", id).Str("actor", actor).Msg("approved")
	return http.StatusOK, recordJSON{rec}
}

func (a *API) reject(_ http.ResponseWriter, r *http.Request, actor string) (int, any) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return http.StatusBadRequest, errorBody("reading the body: " + err.Error())
	}
	reason, err := DecodeReason(body)
	if err != nil {
		return http.StatusBadRequest, errorBody(err.Error())
	}
	rec, err := a.serviceFor(actor).Reject(r.Context(), id, actor, reason)
	if err != nil {
		return a.fail("reject", id, actor, err)
	}
	a.log.Info().Str("action_id", id).Str("actor", actor).Msg("rejected")
	return http.StatusOK, recordJSON{rec}
}

func (a *API) undo(_ http.ResponseWriter, r *http.Request, actor string) (int, any) {
	id := r.PathValue("id")
	rec, err := a.serviceFor(actor).Undo(r.Context(), id, actor)
	if err != nil {
		return a.fail("undo", id, actor, err)
	}
	a.log.Info().Str("action_id", id).Str("undo_id", rec.ID).Str("actor", actor).Msg("undo requested")
	return http.StatusOK, recordJSON{rec}
}

// maxBody bounds a request body; a reason is a sentence.
const (
	maxBody   = 64 << 10
	maxReason = 1000
)

// DecodeReason reads a reject body: empty, or {"reason": "…"} with a
// reason of at most 1000 bytes. Unknown fields are errors,
// so a misspelt "reson" is not silently dropped.
func DecodeReason(body []byte) (string, error) {
	if len(body) > maxBody {
		return "", fmt.Errorf("body: longer than %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in struct {
		Reason *string `json:"reason"`
	}
	if err := dec.Decode(&in); err != nil {
		return "", fmt.Errorf("body: want {\"reason\": \"…\"}: %w", err)
	}
	if dec.More() {
		return "", errors.New("body: one JSON object expected, found more after it")
	}
	if in.Reason == nil {
		return "", nil
	}
	// encoding/json has already replaced invalid UTF-8 with U+FFFD.
	s := strings.TrimSpace(*in.Reason)
	if len(s) > maxReason {
		return "", fmt.Errorf("reason: longer than %d bytes", maxReason)
	}
	return s, nil
}

// ParseSince reads a look-back: a duration before now ("24h", "30m") or
// an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a look-back must not be negative", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (24h) nor an RFC 3339 time", s)
	}
	return t, nil
}
