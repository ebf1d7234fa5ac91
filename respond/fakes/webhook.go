package fakes

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter/webhook"
)

// WebhookReceiver is an in-house system that implements the generic
// webhook protocol: it verifies the signature (401 otherwise), keeps a
// frozen flag per account, answers status, and records what it accepted.
type WebhookReceiver struct {
	server
	secret []byte
	now    func() time.Time

	mu         sync.Mutex
	known      map[string]bool // nil: every account exists
	frozen     map[string]bool
	deliveries []Delivery
}

// Delivery is one verified request.
type Delivery struct {
	ID      string // the X-Trailwatch-Delivery header
	Payload webhook.Payload
}

// NewWebhookReceiver starts a receiver that accepts signatures made with secret.
func NewWebhookReceiver(tb testing.TB, secret string) *WebhookReceiver {
	tb.Helper()
	f := &WebhookReceiver{secret: []byte(secret), now: time.Now, frozen: map[string]bool{}}
	f.start(tb, http.HandlerFunc(f.handle))
	return f
}

// Known limits the accounts the receiver knows; others get 404.
func (f *WebhookReceiver) Known(accounts ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known = map[string]bool{}
	for _, a := range accounts {
		f.known[a] = true
	}
}

// Frozen is the receiver's flag for account.
func (f *WebhookReceiver) Frozen(account string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frozen[account]
}

// Deliveries is every verified request, in order.
func (f *WebhookReceiver) Deliveries() []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Delivery(nil), f.deliveries...)
}

func (f *WebhookReceiver) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(f.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature),
		body, f.now(), webhook.DefaultTolerance); err != nil {
		writeJSON(w, 401, map[string]string{"error": err.Error()})
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		writeJSON(w, 400, map[string]string{"error": "body is not JSON"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.Operation != webhook.OpNotify && f.known != nil && !f.known[p.Account] {
		writeJSON(w, 404, map[string]string{"error": "unknown account " + p.Account})
		return
	}
	switch p.Operation {
	case webhook.OpFreeze:
		f.frozen[p.Account] = true
	case webhook.OpUnfreeze:
		f.frozen[p.Account] = false
	case webhook.OpStatus:
		writeJSON(w, 200, map[string]bool{"frozen": f.frozen[p.Account]})
		return
	case webhook.OpNotify:
		if p.Notification == nil {
			writeJSON(w, 400, map[string]string{"error": "notify without notification"})
			return
		}
	default:
		writeJSON(w, 400, map[string]string{"error": "unknown operation " + p.Operation})
		return
	}
	f.deliveries = append(f.deliveries, Delivery{ID: r.Header.Get(webhook.HeaderDelivery), Payload: p})
	w.WriteHeader(http.StatusNoContent)
}
