package fakes

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

// Slack stands in for a Slack incoming webhook: it answers 200 "ok", and
// the documented plain-text errors (400 invalid_payload, no_text,
// invalid_blocks; 404 no_service for a wrong URL). Rate limiting is a
// fault: SlackRateLimited.
type Slack struct {
	server
	path string

	mu       sync.Mutex
	messages []SlackMessage
}

// SlackMessage is one accepted message.
type SlackMessage struct {
	Text   string           `json:"text"`
	Blocks []map[string]any `json:"blocks"`
}

// NewSlack starts the stand-in; WebhookURL is the URL it accepts.
func NewSlack(tb testing.TB) *Slack {
	tb.Helper()
	f := &Slack{path: "/services/T000FAKE/B000FAKE/XXXXXXXXXXXXXXXXXXXXXXXX"}
	f.start(tb, http.HandlerFunc(f.post))
	return f
}

// WebhookURL is the incoming-webhook URL.
func (f *Slack) WebhookURL() string { return f.URL() + f.path }

// Messages is every accepted message, in order.
func (f *Slack) Messages() []SlackMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SlackMessage(nil), f.messages...)
}

func (f *Slack) post(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != f.path {
		slackText(w, 404, "no_service")
		return
	}
	var m SlackMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		slackText(w, 400, "invalid_payload")
		return
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		slackText(w, 400, "no_text")
		return
	}
	for _, b := range m.Blocks {
		if _, ok := b["type"].(string); !ok {
			slackText(w, 400, "invalid_blocks")
			return
		}
		if b["type"] == "header" {
			t, _ := b["text"].(map[string]any)
			s, _ := t["text"].(string)
			if t["type"] != "plain_text" || s == "" || len([]rune(s)) > 150 {
				slackText(w, 400, "invalid_blocks")
				return
			}
		}
	}
	f.mu.Lock()
	f.messages = append(f.messages, m)
	f.mu.Unlock()
	slackText(w, 200, "ok")
}

// SlackRateLimited is Slack's 429 with Retry-After seconds.
func SlackRateLimited(seconds string) Fault {
	return Fault{Status: 429, Header: http.Header{"Retry-After": {seconds}}, Body: "rate_limited"}
}

func slackText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	w.Write([]byte(s))
}
