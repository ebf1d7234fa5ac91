package oncall

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Action is one action's records and where it stands.
type Action struct {
	ID string `json:"id"`
	// Current is where the action stands: its latest record other than a
	// re-delivered request (respond.Current).
	Current alert.Action `json:"current"`
	// History is every record of the action read, in log order, without
	// re-delivered duplicates.
	History []alert.Action `json:"history"`
}

// Updated is when the action last changed: the latest record's
// recorded_at, or its request time.
func (a Action) Updated() time.Time {
	last := a.History[len(a.History)-1]
	if last.RecordedAt != nil {
		return *last.RecordedAt
	}
	return last.RequestedAt
}

// Source reads the history of actions.
type Source interface {
	// Load returns every action with a record written at or after since,
	// each with its records since then, in log order.
	Load(ctx context.Context, since time.Time) ([]Action, error)
}

// KafkaSource reads the actions topic directly with a short-lived reader:
// every partition from since up to the end it had when Load started. It
// needs nothing but Kafka; once the sink stores the actions table in
// ClickHouse, a source reading that table serves long look-backs faster.
type KafkaSource struct {
	Config kafka.Config
	// Topic defaults to Config.Topics.Actions.Name.
	Topic string
}

// Load reads the topic and groups its records by action id. Records that
// are not actions are skipped (the responder dead-letters them).
func (s KafkaSource) Load(ctx context.Context, since time.Time) ([]Action, error) {
	topic := s.Topic
	if topic == "" {
		topic = s.Config.Topics.Actions.Name
	}
	g := newGrouper()
	err := kafka.Scan(ctx, s.Config, topic, since, func(m kafka.Message) error {
		var a alert.Action
		if json.Unmarshal(m.Value, &a) == nil && respond.CheckRecord(a) == nil {
			g.add(a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g.actions(), nil
}

// grouper gathers records by action id, dropping re-delivered ones.
type grouper struct {
	byID  map[string]*Action
	keys  map[string]bool
	order []string
}

func newGrouper() *grouper {
	return &grouper{byID: map[string]*Action{}, keys: map[string]bool{}}
}

func (g *grouper) add(r alert.Action) {
	k := r.ID + "|" + respond.RecordKey(r)
	if g.keys[k] {
		return
	}
	g.keys[k] = true
	a := g.byID[r.ID]
	if a == nil {
		a = &Action{ID: r.ID}
		g.byID[r.ID] = a
		g.order = append(g.order, r.ID)
	}
	a.History = append(a.History, r)
}

// actions are the groups, most recently updated first.
func (g *grouper) actions() []Action {
	out := make([]Action, 0, len(g.order))
	for _, id := range g.order {
		a := g.byID[id]
		a.Current = respond.Current(a.History)
		out = append(out, *a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated().After(out[j].Updated()) })
	return out
}

// Group builds Actions from records in log order (for sources that read
// records some other way, and for tests).
func Group(records []alert.Action) []Action {
	g := newGrouper()
	for _, r := range records {
		g.add(r)
	}
	return g.actions()
}
